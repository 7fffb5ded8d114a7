//! The parts of an Ardour 7 session file the tests write or read: the song's audio declared as
//! sources, regions and playlists (Ardour 7.3's Lua cannot import), and the plug-in's saved
//! state, which Ardour keeps as a base64 VST3 preset chunk.

/// Ids above anything a new session has used.
const FIRST_ID: u64 = 90_000;

/// `xml` of a new session with `vocal.wav` and `backing.wav` (stereo, `frames` long, in the
/// session's audio folder) on the Vocal and Backing tracks, from the start, and the session range
/// around them. Fades off: the export must be the files' samples.
pub fn with_audio(xml: &str, frames: usize) -> String {
    let mut sources = String::new();
    let mut regions = String::new();
    let mut xml = xml.to_string();
    for (k, (file, track)) in [("vocal", "Vocal"), ("backing", "Backing")]
        .iter()
        .enumerate()
    {
        let id = FIRST_ID + 10 * k as u64;
        let (left, right) = (id, id + 1);
        for (channel, source) in [left, right].iter().enumerate() {
            sources.push_str(&format!(
                r#"<Source name="{file}.wav" type="audio" flags="" id="{source}" captured-for="" take-id="" channel="{channel}" origin="" gain="1"/>"#
            ));
        }
        let region = |name: &str, id: u64, whole: u8| {
            format!(
                r#"<Region name="{name}" whole-file="{whole}" id="{id}" muted="0" opaque="1" locked="0" video-locked="0" automatic="0" import="0" external="0" sync-marked="0" left-of-split="0" right-of-split="0" hidden="0" position-locked="0" valid-transients="0" start="0" length="{frames}" position="0" sync-position="0" ancestral-start="0" ancestral-length="0" stretch="1" shift="1" layering-index="0" envelope-active="0" default-fade-in="0" default-fade-out="0" fade-in-active="0" fade-out-active="0" scale-amplitude="1" type="audio" first-edit="nothing" source-0="{left}" source-1="{right}" master-source-0="{left}" master-source-1="{right}" channels="2"/>"#
            )
        };
        regions.push_str(&region(file, id + 2, 1));
        // the track's (empty) playlist gets the region
        let at = xml
            .find(r#"<Playlist id="#)
            .and_then(|from| {
                xml[from..]
                    .find(&format!(r#"name="{track}" type="audio""#))
                    .map(|p| from + p)
            })
            .expect("the track's playlist");
        let close = at + xml[at..].find("/>").unwrap();
        let inside = format!(">{}</Playlist>", region(&format!("{file}.1"), id + 3, 0));
        xml.replace_range(close..close + 2, &inside);
    }
    let range = format!(
        r#"<Locations><Location id="{}" name="session" start="0" end="{frames}" flags="IsSessionRange" locked="0" timestamp="0" cue="0"/></Locations>"#,
        FIRST_ID + 100
    );
    let counter = xml.find("id-counter=\"").unwrap() + "id-counter=\"".len();
    let end = counter + xml[counter..].find('"').unwrap();
    xml.replace_range(counter..end, &(FIRST_ID + 1000).to_string());
    xml.replacen("<Sources/>", &format!("<Sources>{sources}</Sources>"), 1)
        .replacen("<Regions/>", &format!("<Regions>{regions}</Regions>"), 1)
        .replacen("<Locations/>", &range, 1)
}

/// Where the plug-in's chunk is in `xml`: the text between `<chunk>` and `</chunk>`.
fn chunk_span(xml: &str) -> Option<std::ops::Range<usize>> {
    let processor = xml.find(r#"name="Vocal Automix""#)?;
    let start = processor + xml[processor..].find("<chunk>")? + "<chunk>".len();
    let end = start + xml[start..].find("</chunk>")?;
    Some(start..end)
}

/// A VST3 preset chunk: "VST3", version, class id (32 ASCII hex), the offset of its chunk list;
/// the component's state (nice-plug's JSON) from byte 48; the list ("List", count, then per
/// entry an id, an offset and a size).
pub fn plugin_state(xml: &str) -> Option<serde_json::Value> {
    let bytes = base64_decode(&xml[chunk_span(xml)?]);
    let list = i64::from_le_bytes(bytes.get(40..48)?.try_into().ok()?) as usize;
    serde_json::from_slice(bytes.get(48..list)?).ok()
}

/// `xml` with the plug-in's state replaced by `state` (the controller's part is empty in ours).
pub fn with_plugin_state(xml: &str, state: &serde_json::Value) -> String {
    let span = chunk_span(xml).unwrap();
    let old = base64_decode(&xml[span.clone()]);
    let json = state.to_string().into_bytes();
    let list_at = 48 + json.len() as i64;
    let mut bytes = old[..40].to_vec();
    bytes.extend(list_at.to_le_bytes());
    bytes.extend(&json);
    bytes.extend(b"List");
    bytes.extend(2i32.to_le_bytes());
    for (id, offset, size) in [(b"Comp", 48, json.len() as i64), (b"Cont", list_at, 0)] {
        bytes.extend(id);
        bytes.extend(offset.to_le_bytes());
        bytes.extend(size.to_le_bytes());
    }
    let mut out = xml.to_string();
    out.replace_range(span, &base64_encode(&bytes));
    out
}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn base64_decode(text: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0);
    for c in text
        .bytes()
        .filter(|c| !c.is_ascii_whitespace() && *c != b'=')
    {
        let v = ALPHABET.iter().position(|&a| a == c).expect("base64") as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

fn base64_encode(bytes: &[u8]) -> String {
    let mut out = String::new();
    for group in bytes.chunks(3) {
        let n = group
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | (b as u32) << (16 - 8 * i));
        for i in 0..=group.len() {
            out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
        out.push_str(&"=".repeat(3 - group.len()));
    }
    out
}
