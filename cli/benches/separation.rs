//! Separation and VAD speed on a 3-minute stereo 44.1 kHz song, one core: in process on the
//! backend `ort` is given (tract, then ONNX Runtime when its library is found), and the
//! `automix separate` binary's wall time and peak memory. Goals (issue 14): separation ≤ 15 s on
//! tract, ≤ 5 s on ONNX Runtime, VAD ≤ 1 s, peak memory < 400 MB.

use std::path::{Path, PathBuf};
use std::time::Instant;

use automix::audio_io::{self, Audio};
use automix_tests::measure::{
    RSS_OF, best, helper, pin_to_one_core, rerun_on_onnxruntime, run_measured,
    take_onnxruntime_library,
};
use engine::analysis::cnn_backend::backend;
use engine::separation::{SeparationModels, downmix, separate};
use engine::vad;

const SECONDS: usize = 180;
const RATE: u32 = 44_100;
const CHILD: &str = "--separation-onnxruntime-child";

/// A professional song's mixture looped to 3 minutes (or, without the shared audio, the demo's
/// synthetic song, said loudly).
fn song() -> (Vec<Vec<f32>>, &'static str) {
    let path = automix_tests::workspace()
        .join("../shared/audio/musdb-excerpts/AM Contra - Heart Peripheral/mixture.flac");
    let source = if path.is_file() {
        let (a, _) = audio_io::read(&path).expect("the shared song decodes");
        assert_eq!(a.sample_rate, RATE);
        (a.channels, "AM Contra – Heart Peripheral, looped")
    } else {
        println!("NOTE: ../shared/audio is absent: timing a synthetic song instead");
        let v = engine::synth::vocal_line(RATE as f32, 30.0, 0.5, 1);
        (vec![v.clone(), v], "synthetic sung line")
    };
    let n = SECONDS * RATE as usize;
    let channels = source
        .0
        .iter()
        .map(|c| c.iter().cycle().take(n).copied().collect())
        .collect();
    (channels, source.1)
}

fn figures(label: &str, channels: &[Vec<f32>]) {
    let models = SeparationModels::load();
    if models.separator.is_none() || models.vad.is_none() {
        println!("{label}: not measured ({})", models.warnings.join("; "));
        return;
    }
    let mono = downmix(channels);
    let mut vad_runs = Vec::new();
    for _ in 0..3 {
        let t = Instant::now();
        let a = vad::detect(models.vad.as_ref().unwrap(), &mono, RATE, &mut |_| {}).unwrap();
        vad_runs.push(t.elapsed().as_secs_f64());
        std::hint::black_box(a);
    }
    let mut sep_runs = Vec::new();
    for _ in 0..2 {
        let t = Instant::now();
        let s = separate(&models, channels.to_vec(), RATE, &mut |_, _| {}).unwrap();
        sep_runs.push(t.elapsed().as_secs_f64());
        std::hint::black_box(s);
    }
    let backend = backend().map(|b| b.description.clone()).unwrap_or_default();
    println!(
        "{label} ({backend}): VAD best {:.2} s (goal ≤ 1 s); separation best {:.2} s (with the VAD when the separator is informed; the shipped one is not) (goal ≤ {} s); {:.0}× real time",
        best(&vad_runs),
        best(&sep_runs),
        if label == "tract" { 15 } else { 5 },
        SECONDS as f64 / best(&sep_runs)
    );
}

fn automix_binary() -> PathBuf {
    option_env!("CARGO_BIN_EXE_automix")
        .map(PathBuf::from)
        .unwrap_or_else(|| automix_tests::workspace().join("target/release/automix"))
}

fn peak_memory(channels: Vec<Vec<f32>>, dir: &Path) {
    let wav = dir.join("song.wav");
    audio_io::write_wav(
        &wav,
        &Audio {
            sample_rate: RATE,
            channels,
        },
    )
    .unwrap();
    let out = dir.join("out");
    let (wall, rss) = run_measured(
        &automix_binary(),
        &[
            "separate".as_ref(),
            wav.as_os_str(),
            "-o".as_ref(),
            out.as_os_str(),
        ],
    );
    println!(
        "automix separate (the binary, decode to written files): {wall:.2} s, peak memory {:.0} MB (goal < 400 MB)",
        rss as f64 / 1e6
    );
}

pub fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|a| a == RSS_OF) {
        helper(&args[at + 1..]);
    }
    if args.iter().any(|a| a == "--list") {
        return;
    }
    let (channels, what) = song();
    if args.iter().any(|a| a == CHILD) {
        figures("ONNX Runtime", &channels);
        return;
    }
    let pinned = pin_to_one_core();
    println!(
        "separation: {SECONDS} s of {what}, 44.1 kHz stereo, {}",
        if pinned {
            "one core"
        } else {
            "NOT pinned to one core"
        }
    );
    let library = take_onnxruntime_library();
    figures("tract", &channels);
    rerun_on_onnxruntime(CHILD, library);
    let dir = std::env::temp_dir().join(format!("automix-separation-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    peak_memory(channels, &dir);
    let _ = std::fs::remove_dir_all(&dir);
}
