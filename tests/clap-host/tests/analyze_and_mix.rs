//! Analyze & Mix in a real host, without the editor: the built CLAP bundle plays a song (a real
//! vocal over a real backing from `../shared/audio`), the host turns the "Analyze & Mix"
//! parameter on at the first block and off after the last, as a user or an automation lane
//! would, and keeps playing while the plug-in analyses. The plug-in must end with the parameters
//! `automix analyze` suggests for the same audio, sent to the host as gestures (begin, value,
//! end), and its output must stay finite and free of clicks while the mix glides in.
//!
//! Why "equal": the plug-in captures exactly the blocks played between the two marks, so it
//! analyses the same samples as the files given to the CLI (the mono vocal arrives on both
//! sides of a stereo track, which the analysis counts as the CLI counts a mono file). Values are
//! compared as both display them.

use std::path::Path;
use std::time::{Duration, Instant};

use automix::analyze::{AnalyzeJob, suggest};
use automix::audio_io;
use automix::reference::ReferenceArgs;
use automix_tests::{TempDir, engine_render_stereo, shared_audio, write_wav};
use clap_test_host::{
    ClapId, Loaded, Param, Sent, Stream, Transport, assistant_settings, host_main_thread,
    release_bundle, state_bytes, state_json,
};
use engine::analysis::suggestion::GateKind;
use engine::analysis::{Engine, MixSuggestion};
use engine::{MixParams, PARAMS, ParamId};

const TEMPO: f64 = 130.0;

/// The largest sample-to-sample step in `x[range]`.
fn max_step(x: &[f32], range: std::ops::Range<usize>) -> f32 {
    x[range]
        .windows(2)
        .map(|w| (w[1] - w[0]).abs())
        .fold(0.0, f32::max)
}

#[test]
fn analyze_and_mix_from_the_host_parameter_ends_with_what_automix_analyze_suggests() {
    analyze_and_mix(Engine::Rules, None);
}

#[test]
fn analyze_and_mix_with_the_cnn_engine_ends_with_what_automix_analyze_engine_cnn_suggests() {
    analyze_and_mix(Engine::Cnn, None);
}

/// A reference chosen in the plug-in (as the editor's browser stores it: the saved settings'
/// path), measured on the plug-in's own thread, kept in the saved state so a reopened project
/// has it at once, and mixed toward as `automix analyze --reference` mixes.
#[test]
fn analyze_and_mix_toward_a_reference_ends_with_what_automix_analyze_reference_suggests() {
    let Some(reference) =
        shared_audio("musdb-excerpts/Al James - Schoolboy Facination/mixture.flac")
    else {
        return;
    };
    analyze_and_mix(Engine::Rules, Some(&reference));
}

/// Chooses the reference in `p` (through its saved settings, as the editor's browser does), and
/// checks that a new instance given the saved state has the measures without measuring.
fn choose_reference(p: &mut Loaded, bundle: &std::path::Path, reference: &std::path::Path) {
    // the plug-in measures on its analysis thread, which runs once it has been activated (a host
    // whose audio engine runs)
    p.process(44_100.0, 64, &[vec![0.0; 64], vec![0.0; 64]], None, &[])
        .unwrap();
    let started = Instant::now();
    let saved = p
        .choose_reference(reference, Duration::from_secs(120))
        .unwrap();
    let settings = assistant_settings(&saved).unwrap();
    println!(
        "reference measured by the plug-in in {:.1} s: {}",
        started.elapsed().as_secs_f64(),
        settings["reference"]["measures"]
    );
    // a reopened project: the measures come back with the state, nothing is measured again
    let mut reopened = Loaded::load(bundle).unwrap();
    let t = Instant::now();
    reopened.load_state(&state_bytes(&saved)).unwrap();
    let again = assistant_settings(&state_json(&reopened.save_state().unwrap()).unwrap()).unwrap();
    assert_eq!(again["reference"], settings["reference"]);
    assert!(
        t.elapsed() < Duration::from_millis(500),
        "{:?}",
        t.elapsed()
    );
}

/// The song the Analyze & Mix cases play: a real vocal (mono) and its backing, equal lengths.
struct SongAudio {
    rate: u32,
    vocal: Vec<f32>,
    backing: Vec<Vec<f32>>,
}

impl SongAudio {
    fn read() -> Option<SongAudio> {
        let (Some(vocal_file), Some(backing_file)) = (
            shared_audio("clips/vocadito_1_vocal.wav"),
            shared_audio("backings/vibe_ace_instrumental.ogg"),
        ) else {
            return None;
        };
        let (vocal, _) = audio_io::read(&vocal_file).unwrap();
        let (backing, _) = audio_io::read(&backing_file).unwrap();
        assert_eq!(vocal.sample_rate, backing.sample_rate);
        let frames = vocal.frames();
        Some(SongAudio {
            rate: vocal.sample_rate,
            vocal: vocal.channels[0].clone(),
            backing: backing
                .channels
                .iter()
                .map(|c| c[..frames].to_vec())
                .collect(),
        })
    }

    fn frames(&self) -> usize {
        self.vocal.len()
    }

    /// `stream` plays `at..end` of the song, with `set` sent first.
    fn play(
        &self,
        stream: &mut Stream,
        at: usize,
        end: usize,
        set: &[(ClapId, f64)],
    ) -> [Vec<f32>; 2] {
        let playing = Some(Transport {
            playing: true,
            tempo: TEMPO,
        });
        let v = &self.vocal[at..end];
        let b = [&self.backing[0][at..end], &self.backing[1][at..end]];
        stream.run([v, v], Some(b), set, playing).unwrap()
    }
}

/// What `automix analyze` suggests for exactly this audio, with the plug-in's default gate.
fn cli_suggestion(song: &SongAudio, engine: Engine, reference: Option<&Path>) -> MixSuggestion {
    let dir = TempDir::new("analyze-and-mix");
    write_wav(
        &dir.path("vocal.wav"),
        song.rate,
        std::slice::from_ref(&song.vocal),
    );
    write_wav(&dir.path("backing.wav"), song.rate, &song.backing);
    let cli = suggest(
        &AnalyzeJob {
            gate: GateKind::Vad,
            reference: ReferenceArgs {
                references: reference.iter().map(|r| r.to_path_buf()).collect(),
                cache: Some(dir.path("cache")),
                ..Default::default()
            }
            .prepare(&mut |_| {})
            .unwrap(),
            vocal: dir.path("vocal.wav"),
            backing: Some(dir.path("backing.wav")),
            tempo_bpm: Some(TEMPO),
            engine,
        },
        &mut |_| {},
    )
    .unwrap();
    if engine == Engine::Cnn {
        // the case is worth running only if the CNNs decide something
        assert!(
            cli.cnn.as_ref().unwrap().stages.iter().any(|s| s.used),
            "{:?}",
            cli.cnn
        );
    }
    if reference.is_some() {
        let level = &cli.level.reason;
        assert!(level.starts_with("from the reference"), "{level}");
    }
    cli
}

/// The song played through once with the button held (pressed with the first block, released
/// after), at 20 times real time (the worker drains the capture every 10 ms); the output.
fn listen(song: &SongAudio, stream: &mut Stream, press: &[(ClapId, f64)]) -> [Vec<f32>; 2] {
    let piece = song.rate as usize / 10;
    let mut first = [Vec::new(), Vec::new()];
    for at in (0..song.frames()).step_by(piece) {
        let end = (at + piece).min(song.frames());
        let out = song.play(stream, at, end, if at == 0 { press } else { &[] });
        first[0].extend(&out[0]);
        first[1].extend(&out[1]);
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(stream.output.is_empty(), "{:?}", stream.output);
    first
}

/// The song goes on (from the top) after the release while the plug-in thinks, until 2 s after
/// the mix arrives in it: the left output, where the change arrived in it, and how long it took.
fn play_until_the_mix(
    song: &SongAudio,
    stream: &mut Stream,
    trigger: ClapId,
) -> (Vec<f32>, usize, Duration) {
    let piece = song.rate as usize / 10;
    let mut out: Vec<f32> = Vec::new();
    let mut arrived_at = None;
    let mut waited = Duration::ZERO;
    let started = Instant::now();
    let mut k = 0;
    while started.elapsed() < Duration::from_secs(60) {
        let at = (k * piece) % (song.frames() - piece);
        let set: &[_] = if k == 0 { &[(trigger, 0.0)] } else { &[] };
        out.extend(&song.play(stream, at, at + piece, set)[0]);
        k += 1;
        if arrived_at.is_none() && !stream.output.is_empty() {
            arrived_at = Some(out.len());
            waited = started.elapsed();
        }
        // two more seconds after the change, for the glide
        if arrived_at.is_some_and(|a| out.len() > a + 2 * song.rate as usize) {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    (
        out,
        arrived_at.expect("the suggestion never arrived (60 s)"),
        waited,
    )
}

/// Every change is a whole gesture, and every changed parameter ends where the CLI says; the
/// number changed.
fn assert_changes_as_the_cli(
    p: &mut Loaded,
    params: &[Param],
    before: &[String],
    sent: &[Sent],
    cli: &MixSuggestion,
) -> usize {
    let mut changed = 0;
    for (spec, (q, was)) in PARAMS.iter().zip(params.iter().zip(before)) {
        let now = p.value(q.id).unwrap();
        let shown = p.value_to_text(q.id, now).unwrap();
        let want = spec.format(cli.params.get(spec.id));
        assert_eq!(
            shown, want,
            "{}: plug-in {shown}, automix analyze {want}",
            spec.key
        );
        let events: Vec<&Sent> = sent
            .iter()
            .filter(|e| match e {
                Sent::Begin(id) | Sent::End(id) | Sent::Value(id, _) => *id == q.id,
            })
            .collect();
        if shown != *was {
            changed += 1;
            assert!(
                // the value sent is the one the plug-in holds (a skewed range's round trip
                // through f32 may move the last bits)
                matches!(events[..], [Sent::Begin(_), Sent::Value(_, v), Sent::End(_)] if (*v - now).abs() < 1e-6),
                "{}: {events:?}, the plug-in's value {now}",
                spec.key
            );
        } else {
            assert!(events.is_empty(), "{}: {events:?}", spec.key);
        }
    }
    changed
}

/// No step at the change beyond what the music itself has there: the same stretch of the song
/// rendered by the engine with the old settings and with the new ones (the output after the
/// release plays the song from the top).
fn assert_no_step_at_the_change(
    song: &SongAudio,
    out: &[f32],
    arrived_at: usize,
    cli: &MixSuggestion,
) {
    let r = song.rate as usize;
    let around = arrived_at.saturating_sub(r / 10)..(arrived_at + r / 2).min(out.len());
    let stereo = [song.vocal.clone(), song.vocal.clone()];
    let old = engine_render_stereo(&MixParams::default(), song.rate as f32, &stereo);
    // a ride the suggestion turns on starts from 0 dB at the change and follows the backing from
    // there, at most its speed: over the half second after the change it can have raised the
    // vocal (and the music's steps) by at most speed × 0.5 s
    let mut still = cli.params.clone();
    still.set(ParamId::RideOn, 0.0);
    let new = engine_render_stereo(&still, song.rate as f32, &stereo);
    let ride_room = if cli.params.on(ParamId::RideOn) {
        10f32.powf(cli.params.get(ParamId::RideSpeed) * 0.5 / 20.0)
    } else {
        1.0
    };
    let music =
        ride_room * max_step(&old[0], around.clone()).max(max_step(&new[0], around.clone()));
    let at_change = max_step(out, around);
    println!(
        "largest step at the change {at_change:.4}; the music there, either setting: {music:.4}"
    );
    assert!(at_change <= 1.1 * music, "{at_change} vs {music}");
}

fn analyze_and_mix(engine: Engine, reference: Option<&Path>) {
    let _main = host_main_thread();
    let Some(path) = release_bundle() else { return };
    let Some(song) = SongAudio::read() else {
        return;
    };
    let cli = cli_suggestion(&song, engine, reference);
    let mut p = Loaded::load(&path).unwrap();
    if let Some(r) = reference {
        choose_reference(&mut p, &path, r);
    }
    let params = p.params();
    let id_of = |name: &str| {
        params
            .iter()
            .find(|q| q.name == name)
            .unwrap_or_else(|| panic!("a host parameter named {name}"))
            .id
    };
    let (trigger, engine_param) = (id_of("Analyze & Mix"), id_of("Assistant Engine"));
    assert_eq!(
        params.iter().find(|q| q.id == trigger).unwrap().module,
        "Assistant"
    );
    let engine_index = Engine::ALL.iter().position(|e| *e == engine).unwrap() as f64;
    let before: Vec<String> = params
        .iter()
        .map(|q| {
            let v = p.value(q.id).unwrap();
            p.value_to_text(q.id, v).unwrap()
        })
        .collect();

    let mut stream = p.stream(song.rate as f64, 512).unwrap();
    let first = listen(
        &song,
        &mut stream,
        &[(engine_param, engine_index), (trigger, 1.0)],
    );
    let (out, arrived_at, waited) = play_until_the_mix(&song, &mut stream, trigger);
    let sent = stream.output.clone();
    drop(stream);

    let changed = assert_changes_as_the_cli(&mut p, &params, &before, &sent, &cli);
    assert!(changed >= 3, "only {changed} parameters changed");
    assert_eq!(p.value(trigger), Some(0.0));
    let engine_now = p.value(engine_param).unwrap();
    assert_eq!(
        p.value_to_text(engine_param, engine_now).unwrap(),
        engine.label()
    );
    println!(
        "Analyze & Mix ({} engine) through the CLAP host: {changed} parameters changed, all equal to automix analyze; the mix arrived {:.2} s after the release ({:.0} s of song analysed)",
        engine.label(),
        waited.as_secs_f64(),
        song.frames() as f64 / song.rate as f64
    );
    assert!(first.iter().chain([&out]).flatten().all(|x| x.is_finite()));
    assert_no_step_at_the_change(&song, &out, arrived_at, &cli);
}

/// A profile (`automix learn`) chosen in the plug-in: its medians are the reference's measures;
/// a JSON file that is not a profile is refused with a message.
#[test]
fn a_profile_chosen_in_the_plug_in_gives_its_medians() {
    use engine::analysis::library_profile::{LibraryProfile, Song};
    use engine::analysis::reference::ReferenceMeasures;
    let _main = host_main_thread();
    let Some(bundle) = release_bundle() else {
        return;
    };
    let dir = TempDir::new("plugin-profile");
    let song = |vmb: f64| Song {
        file: format!("{vmb}.wav"),
        measures: ReferenceMeasures {
            vocal_minus_backing_lu: Some(vmb),
            vocal_loudness_range_lu: Some(6.0),
            tone_relative_db: None,
            tone_vocal_share: None,
            reverb_tail_db: Some(-20.0),
            sung_seconds: 100.0,
            seconds: 200.0,
            confidence: None,
        },
    };
    let profile = LibraryProfile::new(vec![song(-1.0), song(-4.0), song(-2.5)], vec![]).unwrap();
    std::fs::write(dir.path("mine.json"), profile.to_json()).unwrap();
    std::fs::write(dir.path("other.json"), "{\"format\": \"something else\"}").unwrap();
    let mut p = Loaded::load(&bundle).unwrap();
    p.process(44_100.0, 64, &[vec![0.0; 64], vec![0.0; 64]], None, &[])
        .unwrap();
    let state = p
        .choose_reference(&dir.path("mine.json"), Duration::from_secs(30))
        .unwrap();
    let s = assistant_settings(&state).unwrap();
    assert_eq!(s["reference"]["measures"]["vocal_minus_backing_lu"], -2.5);
    let e = p
        .choose_reference(&dir.path("other.json"), Duration::from_secs(30))
        .unwrap_err();
    assert!(e.contains("not a profile"), "{e}");
}
