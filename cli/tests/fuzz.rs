//! Fuzzing what the command line reads from users' files (see `automix_tests::fuzz` for the
//! harness, its budget and how to replay a failure):
//!
//! - the decoder path (`audio_io::read` for `mix`/`render`, `audio_io::read_track` for
//!   `analyze`): valid WAV (four sample formats), MP3, FLAC and Ogg Vorbis files, mutated at random
//!   (flipped bits, lying header fields, cut, spliced, truncated) → a clear error naming the file,
//!   or audio that is finite and whole; never a panic, a hang, or more than 256 MB;
//! - parameter files and suggestions (JSON), mutated as bytes and as JSON (values of every type,
//!   huge, negative, NaN, misspelt keys, deep nesting) → a clear error naming the file, or a
//!   parameter set in which every value is within its range.
//!
//! Every input that ever failed is replayed from `tests/fuzz-regressions/`.

use std::path::Path;
use std::time::Duration;

use automix::{audio_io, param_file};
use automix_tests::fuzz::{self, CountingAlloc, Rng, Target};
use automix_tests::{TempDir, shared_audio};
use engine::MixParams;
use engine::params::{Conformed, PARAMS};
use serde_json::{Map, Value, json};

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

const DECODER: Target = Target {
    name: "decoder",
    time_limit: Duration::from_secs(3),
    memory_limit: 256 << 20,
};

const PARAM_FILES: Target = Target {
    name: "param-files",
    time_limit: Duration::from_secs(1),
    memory_limit: 64 << 20,
};

/// A valid file of each kind the decoder reads: (extension, bytes).
fn audio_seeds(dir: &TempDir) -> Vec<(&'static str, Vec<u8>)> {
    let mut seeds = Vec::new();
    let formats: [(u32, u16, u16, hound::SampleFormat); 4] = [
        (44_100, 2, 16, hound::SampleFormat::Int),
        (8_000, 1, 24, hound::SampleFormat::Int),
        (48_000, 2, 32, hound::SampleFormat::Float),
        (22_050, 1, 8, hound::SampleFormat::Int),
    ];
    for (i, (rate, channels, bits, format)) in formats.into_iter().enumerate() {
        let path = dir.path(&format!("seed{i}.wav"));
        let spec = hound::WavSpec {
            channels,
            sample_rate: rate,
            bits_per_sample: bits,
            sample_format: format,
        };
        let mut w = hound::WavWriter::create(&path, spec).unwrap();
        let frames = rate as usize / 4;
        for n in 0..frames * channels as usize {
            let x = (n as f32 * 0.05).sin() * 0.5;
            match format {
                hound::SampleFormat::Float => w.write_sample(x).unwrap(),
                hound::SampleFormat::Int => {
                    let full = ((1i64 << (bits - 1)) - 1) as f32;
                    w.write_sample((x * full) as i32).unwrap()
                }
            }
        }
        w.finalize().unwrap();
        seeds.push(("wav", std::fs::read(&path).unwrap()));
    }
    seeds.push(("mp3", silent_mp3(40)));
    // FLAC and Ogg Vorbis from the shared recordings, only their start (a few seconds; the Ogg's
    // headers alone take 87 kB): nothing of them is kept, and a short input keeps each case fast
    let mir1k = shared_audio("mir1k/flac");
    let flac = mir1k.and_then(|d| {
        let mut files: Vec<_> = std::fs::read_dir(d)
            .ok()?
            .flatten()
            .map(|e| e.path())
            .collect();
        files.sort();
        files.into_iter().next()
    });
    for (ext, path, keep) in [
        ("flac", flac, 48 << 10),
        (
            "ogg",
            shared_audio("backings/vibe_ace_instrumental.ogg"),
            128 << 10,
        ),
    ] {
        if let Some(p) = path {
            let mut b = std::fs::read(p).unwrap();
            b.truncate(keep);
            seeds.push((ext, b));
        }
    }
    seeds
}

/// `frames` MPEG-1 Layer III frames (128 kbit/s, 44.1 kHz, joint stereo) whose side information
/// and main data are all zero: a valid MP3 of silence, made here because no MP3 encoder is at hand.
fn silent_mp3(frames: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for _ in 0..frames {
        let mut frame = vec![0u8; 144 * 128_000 / 44_100];
        frame[..4].copy_from_slice(&[0xFF, 0xFB, 0x90, 0x44]);
        out.extend(frame);
    }
    out
}

struct AudioCase {
    ext: &'static str,
    bytes: Vec<u8>,
    whole_track: bool,
}

impl std::fmt::Debug for AudioCase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} bytes as .{}", self.bytes.len(), self.ext)
    }
}

fn check_decode(path: &Path, whole_track: bool) -> Result<(), String> {
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    let clear = |e: engine::audio_file::AudioFileError| {
        if e.path() != path {
            Err(format!(
                "an error about {} instead: {e}",
                e.path().display()
            ))
        } else if e.to_string().contains(&name) {
            Ok(())
        } else {
            Err(format!("an error that does not name the file: {e}"))
        }
    };
    if whole_track {
        match audio_io::read_track(path) {
            Ok((track, _)) => {
                if !track.mono.iter().all(|v| v.is_finite()) {
                    return Err("a track with non-finite samples".into());
                }
                if !track.info.seconds.is_finite() || track.info.seconds <= 0.0 {
                    return Err(format!("a track of {} s", track.info.seconds));
                }
                Ok(())
            }
            Err(e) => clear(e),
        }
    } else {
        match audio_io::read(path) {
            Ok((audio, _)) => {
                let n = audio.frames();
                if audio.sample_rate == 0 || audio.channels.is_empty() || n == 0 {
                    return Err(format!(
                        "audio of {} Hz, {} channels, {n} frames",
                        audio.sample_rate,
                        audio.channels.len()
                    ));
                }
                if audio.channels.iter().any(|c| c.len() != n) {
                    return Err("channels of different lengths".into());
                }
                Ok(())
            }
            Err(e) => clear(e),
        }
    }
}

#[test]
fn the_decoder_answers_broken_files_with_an_error_or_finite_audio() {
    let dir = TempDir::new("fuzz-decoder");
    let seeds = audio_seeds(&dir);
    // the seeds themselves decode
    for (i, (ext, bytes)) in seeds.iter().enumerate() {
        let p = dir.path(&format!("valid{i}.{ext}"));
        std::fs::write(&p, bytes).unwrap();
        audio_io::read_track(&p).unwrap_or_else(|e| panic!("seed {i} (.{ext}): {e}"));
    }
    let file = dir.path("case");
    let outcome = fuzz::run(
        &DECODER,
        |rng| {
            let (ext, seed) = rng.pick(&seeds);
            // sometimes the name lies about the format too
            let ext = if rng.chance(0.1) {
                *rng.pick(&["wav", "flac", "mp3", "ogg"])
            } else {
                *ext
            };
            AudioCase {
                ext,
                bytes: fuzz::mutate(seed, rng),
                whole_track: rng.chance(0.5),
            }
        },
        |case| {
            let path = file.with_extension(case.ext);
            std::fs::write(&path, &case.bytes).map_err(|e| e.to_string())?;
            check_decode(&path, case.whole_track)
        },
        |case| Some(case.bytes.clone()),
    );
    fuzz::assert_clean(&outcome);
}

/// A FLAC of metadata only whose comment block says its vendor string is 2 GB long: made here,
/// like the mutated file it stands for (whose audio came from a recording, so it is not kept).
fn flac_claiming_a_2_gb_comment() -> Vec<u8> {
    let mut b = b"fLaC".to_vec();
    // STREAMINFO: blocks of 4096, 44.1 kHz, 2 channels, 16 bits, 44100 samples, no MD5
    b.extend([
        0x00, 0x00, 0x00, 34, 0x10, 0x00, 0x10, 0x00, 0, 0, 0, 0, 0, 0,
    ]);
    b.extend([0x0A, 0xC4, 0x42, 0xF0, 0x00, 0x00, 0xAC, 0x44]);
    b.extend([0u8; 16]);
    // the last block, VORBIS_COMMENT, 255 bytes long, whose vendor length is 0x7FFFFFFF
    b.extend([0x84, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F]);
    b
}

/// A WAV's RIFF header around a `fmt ` chunk and `data` (whose declared length is `data_len`,
/// which a truncated file exceeds).
fn riff(fmt: &[u8], data: &[u8], data_len: u32) -> Vec<u8> {
    let mut b = b"RIFF".to_vec();
    b.extend((4 + 8 + fmt.len() as u32 + 8 + data_len).to_le_bytes());
    b.extend(b"WAVEfmt ");
    b.extend((fmt.len() as u32).to_le_bytes());
    b.extend(fmt);
    b.extend(b"data");
    b.extend(data_len.to_le_bytes());
    b.extend(data);
    b
}

/// An extensible 32-bit float `fmt ` chunk claiming `channels` (mask: front left and right) at
/// 48 kHz, with the block align of two channels, as the fuzzer's mutations left it.
fn extensible_float_fmt(channels: u16) -> Vec<u8> {
    let mut f = Vec::new();
    f.extend(0xFFFEu16.to_le_bytes());
    f.extend(channels.to_le_bytes());
    f.extend(48_000u32.to_le_bytes());
    f.extend(384_000u32.to_le_bytes());
    f.extend(8u16.to_le_bytes());
    f.extend(32u16.to_le_bytes());
    f.extend(22u16.to_le_bytes());
    f.extend(32u16.to_le_bytes());
    f.extend(3u32.to_le_bytes());
    // KSDATAFORMAT_SUBTYPE_IEEE_FLOAT
    f.extend([
        3, 0, 0, 0, 0, 0, 0x10, 0, 0x80, 0, 0, 0xAA, 0, 0x38, 0x9B, 0x71,
    ]);
    f
}

fn float_sine(n: usize) -> Vec<f32> {
    (0..n).map(|i| 0.5 * (i as f32 * 0.05).sin()).collect()
}

fn le_bytes(x: &[f32]) -> Vec<u8> {
    x.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// The decoder's regressions, made here as the fuzzer made them (from a sine written in code)
/// rather than kept as audio files; tests/fuzz-regressions/README.md says what each one did.
fn decoder_regressions() -> Vec<(String, Vec<u8>)> {
    // an 8-bit mono PCM WAV whose header says 4.28 GHz (0xFF005622), truncated
    let mut pcm = Vec::new();
    pcm.extend(1u16.to_le_bytes());
    pcm.extend(1u16.to_le_bytes());
    pcm.extend(0xFF00_5622u32.to_le_bytes());
    pcm.extend(0x5622u32.to_le_bytes());
    pcm.extend(1u16.to_le_bytes());
    pcm.extend(8u16.to_le_bytes());
    let bytes: Vec<u8> = (0..1085)
        .map(|i| (128.0 + 63.5 * (i as f32 * 0.05).sin()) as u8)
        .collect();
    let rate = riff(&pcm, &bytes, 5512);
    // a stereo float WAV whose last stretch holds samples near ±3e38 (finite; their sum is not),
    // its final sample cut short
    let mut samples = float_sine(22_472);
    samples.extend((0..1_489).map(|i| if i % 3 == 0 { 3.0e38 } else { -3.0e38 }));
    let mut data = le_bytes(&samples);
    data.extend([0x12, 0x34, 0x56]);
    let huge = riff(&extensible_float_fmt(2), &data, 96_000);
    // an extensible WAV claiming 127 channels with a two-channel mask
    let many = riff(
        &extensible_float_fmt(127),
        &le_bytes(&float_sine(24_000)),
        96_000,
    );
    vec![
        ("rate-4-ghz-hang.wav".into(), rate),
        ("float-3e38-inf-downmix.wav".into(), huge),
        ("extensible-127-channels-mask-overflow.wav".into(), many),
        (
            "flac-comment-length-2-gb.flac".into(),
            flac_claiming_a_2_gb_comment(),
        ),
    ]
}

#[test]
fn decoder_inputs_that_once_failed_now_decode_or_say_why() {
    let dir = TempDir::new("fuzz-decoder-regressions");
    let made = decoder_regressions();
    for (name, bytes) in fuzz::regressions("decoder").into_iter().chain(made) {
        // the file's own extension is the one it failed under (`<anything>.<ext>`)
        let path = dir.path(&name);
        std::fs::write(&path, bytes).unwrap();
        for whole in [false, true] {
            check_decode(&path, whole).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }
}

/// A parameter file with every key, as numbers, as the plug-in's text, or a suggestion.
fn param_seeds() -> Vec<Value> {
    let defaults = MixParams::default();
    let numbers: Map<String, Value> = PARAMS
        .iter()
        .map(|p| (p.key.to_string(), json!(defaults.get(p.id))))
        .collect();
    let texts: Map<String, Value> = PARAMS
        .iter()
        .map(|p| (p.key.to_string(), json!(p.format(defaults.get(p.id)))))
        .collect();
    let suggestion = json!({
        "format": engine::analysis::suggestion::FORMAT,
        "version": engine::analysis::suggestion::VERSION,
        "params": numbers.clone(),
    });
    vec![
        Value::Object(numbers),
        Value::Object(texts),
        suggestion,
        json!({"level_gain_db": -3, "comp_ratio": "3.2:1", "comment": "a mix"}),
    ]
}

/// A random JSON value, nested up to `depth`.
fn random_value(rng: &mut Rng, depth: usize) -> Value {
    match rng.below(if depth == 0 { 9 } else { 11 }) {
        0 => Value::Null,
        1 => json!(rng.chance(0.5)),
        2 => json!(rng.range(-1e3, 1e3)),
        3 => json!(*rng.pick(&[0.0, -0.0, 1e308, -1e308, 1e-320, 3.4e38, 1e39])),
        4 => json!(*rng.pick(&[i64::MIN, -1, 0, 1, i64::MAX])),
        5 => json!(*rng.pick(&[u64::MAX, 1 << 53])),
        6 => json!(*rng.pick(&[
            "NaN", "inf", "-inf", "", "-3.5 dB", "4k", "3.2:1", "2.2 s", "On", "off", "64",
            "1e999", "١٢", "\u{0}", "dB"
        ])),
        7 => {
            let n = rng.below(40);
            json!(
                (0..n)
                    .map(|_| (b'a' + rng.below(26) as u8) as char)
                    .collect::<String>()
            )
        }
        8 => json!(format!(
            "{} {}",
            rng.range(-1e6, 1e6),
            rng.pick(&["dB", "Hz", "kHz", "s", "ms", ":1", "%"])
        )),
        9 => Value::Array(
            (0..rng.below(4))
                .map(|_| random_value(rng, depth - 1))
                .collect(),
        ),
        _ => {
            let mut m = Map::new();
            for _ in 0..rng.below(4) {
                m.insert(random_key(rng), random_value(rng, depth - 1));
            }
            Value::Object(m)
        }
    }
}

fn random_key(rng: &mut Rng) -> String {
    let key = rng.pick(PARAMS).key;
    match rng.below(5) {
        0 => {
            // a typo
            let mut k: Vec<char> = key.chars().collect();
            let i = rng.below(k.len());
            k[i] = (b'a' + rng.below(26) as u8) as char;
            k.into_iter().collect()
        }
        1 => key.to_uppercase(),
        2 => (*rng.pick(&["$schema", "comment", "format", "version", "params", ""])).to_string(),
        _ => key.to_string(),
    }
}

fn mutate_json(v: &Value, rng: &mut Rng) -> Value {
    let mut v = v.clone();
    for _ in 0..1 + rng.below(6) {
        // the map to change: the top level, or a suggestion's parameters
        let target = match &mut v {
            Value::Object(m) if m.contains_key("params") && rng.chance(0.7) => m.get_mut("params"),
            other => Some(other),
        };
        let Some(Value::Object(m)) = target else {
            v = random_value(rng, 3);
            continue;
        };
        match rng.below(5) {
            0 if !m.is_empty() => {
                let k = m.keys().nth(rng.below(m.len())).cloned().unwrap();
                m.remove(&k);
            }
            1 => {
                m.insert(random_key(rng), random_value(rng, 3));
            }
            2 if !m.is_empty() => {
                // deep nesting
                let k = m.keys().nth(rng.below(m.len())).cloned().unwrap();
                let mut deep = json!(1);
                for _ in 0..rng.below(300) {
                    deep = json!([deep]);
                }
                m.insert(k, deep);
            }
            _ if !m.is_empty() => {
                let k = m.keys().nth(rng.below(m.len())).cloned().unwrap();
                m.insert(k, random_value(rng, 2));
            }
            _ => {}
        }
    }
    v
}

fn check_params(text: &str) -> Result<(), String> {
    match param_file::parse(text, "fuzz.json") {
        Ok(loaded) => {
            for p in PARAMS {
                let v = loaded.params.get(p.id);
                if p.conform(v) != Conformed::Exact(v) {
                    return Err(format!("{} = {v}, outside its range", p.key));
                }
            }
            Ok(())
        }
        Err(e) if e.contains("fuzz.json") && !e.trim().is_empty() => Ok(()),
        Err(e) => Err(format!("an error that does not name the file: {e}")),
    }
}

#[test]
fn parameter_files_give_a_clear_error_or_a_set_within_every_range() {
    let seeds = param_seeds();
    for s in &seeds {
        param_file::parse(&s.to_string(), "seed").unwrap();
    }
    let outcome = fuzz::run(
        &PARAM_FILES,
        |rng| {
            let seed = rng.pick(&seeds);
            let value = mutate_json(seed, rng);
            let text = if rng.chance(0.5) {
                serde_json::to_string_pretty(&value).unwrap()
            } else {
                value.to_string()
            };
            if rng.chance(0.3) {
                String::from_utf8_lossy(&fuzz::mutate(text.as_bytes(), rng)).into_owned()
            } else {
                text
            }
        },
        |text| check_params(text),
        |text| Some(text.as_bytes().to_vec()),
    );
    fuzz::assert_clean(&outcome);
}

#[test]
fn parameter_files_that_once_failed_now_load_or_say_why() {
    for (name, bytes) in fuzz::regressions("param-files") {
        check_params(&String::from_utf8_lossy(&bytes)).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}
