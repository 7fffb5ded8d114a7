//! `automix analyze` on a 3-minute vocal + backing pair (44.1 kHz stereo 16-bit WAV), on one core:
//! wall time beside the time it takes merely to decode both files (the floor), and the peak
//! memory of the real binary. Goals (issue 3): at most 1 s, under 150 MB.
//!
//! The pair is vocadito looped over the Vibe Ace backing (from `../shared/audio`), or, when that
//! is absent, a synthetic pair of the same length (said loudly). `cargo bench -p automix --bench analyze`.

use std::path::{Path, PathBuf};
use std::time::Instant;

use automix::analyze::{AnalyzeJob, suggest};
use automix::audio_io;
use automix::reference::{Prepared, ReferenceArgs};
use automix_tests::measure::{RSS_OF, best, helper, median, pin_to_one_core, run_measured};
use engine::analysis::Engine;
use engine::analysis::suggestion::GateKind;

const SECONDS: usize = 180;
const RATE: u32 = 44_100;
const RUNS: usize = 5;

fn write_pcm16(path: &Path, channels: &[Vec<f32>]) {
    let spec = hound::WavSpec {
        channels: channels.len() as u16,
        sample_rate: RATE,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for i in 0..channels[0].len() {
        for c in channels {
            w.write_sample((c[i].clamp(-1.0, 1.0) * 32767.0) as i16)
                .unwrap();
        }
    }
    w.finalize().unwrap();
}

/// Loops `x` (any channel count, made stereo) to the benchmark's length.
fn looped_stereo(x: &[Vec<f32>]) -> Vec<Vec<f32>> {
    let n = SECONDS * RATE as usize;
    (0..2)
        .map(|c| {
            let src = &x[c.min(x.len() - 1)];
            (0..n).map(|i| src[i % src.len()]).collect()
        })
        .collect()
}

/// Phrase gains spanning 18 dB: a vocal whose loudness range needs the full compression search.
fn make_dynamic(x: &mut [Vec<f32>]) {
    let phrase = 6 * RATE as usize;
    for c in x.iter_mut() {
        for (k, chunk) in c.chunks_mut(phrase).enumerate() {
            let g = [1.0, 0.13, 0.56, 0.18, 0.75, 0.25][k % 6];
            chunk.iter_mut().for_each(|v| *v *= g);
        }
    }
}

fn pair(dir: &Path) -> (PathBuf, PathBuf, PathBuf, &'static str) {
    let shared = automix_tests::workspace().join("../shared/audio");
    let (v, b) = (
        shared.join("clips/vocadito_1_vocal.wav"),
        shared.join("backings/vibe_ace_instrumental.ogg"),
    );
    let (mut vocal, backing, what) = if v.exists() && b.exists() {
        let (va, _) = audio_io::read(&v).unwrap();
        let (ba, _) = audio_io::read(&b).unwrap();
        (
            looped_stereo(&va.channels),
            looped_stereo(&ba.channels),
            "vocadito looped over Vibe Ace",
        )
    } else {
        eprintln!(
            "NOTE: {} is absent; benchmarking a synthetic pair of the same length instead",
            shared.display()
        );
        let v = engine::synth::vocal_line(RATE as f32, 30.0, 0.5, 1);
        let [l, r] = engine::synth::backing_track(RATE as f32, 60.0, 100.0, 0.8, 1);
        (
            looped_stereo(&[v]),
            looped_stereo(&[l, r]),
            "a synthetic pair",
        )
    };
    let (vp, bp, dp) = (
        dir.join("vocal.wav"),
        dir.join("backing.wav"),
        dir.join("vocal_dynamic.wav"),
    );
    write_pcm16(&vp, &vocal);
    write_pcm16(&bp, &backing);
    make_dynamic(&mut vocal);
    write_pcm16(&dp, &vocal);
    (vp, bp, dp, what)
}

pub fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|a| a == RSS_OF) {
        helper(&args[at + 1..]);
    }
    if args.iter().any(|a| a == "--list") {
        return;
    }
    let dir = std::env::temp_dir().join(format!("automix-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (vocal, backing, dynamic, what) = pair(&dir);
    let pinned = pin_to_one_core();
    println!(
        "automix analyze: {SECONDS} s pairs ({what}), 44.1 kHz stereo 16-bit WAV, {}",
        if pinned {
            "one core"
        } else {
            "NOT pinned to one core (sched_setaffinity failed)"
        }
    );
    for (label, vocal) in [("as recorded", &vocal), ("made dynamic", &dynamic)] {
        bench_pair(label, vocal, &backing);
    }
    // the reference: a professional mix looped to the pair's length (or the pair mixed)
    let mixture = automix_tests::workspace()
        .join("../shared/audio/musdb-excerpts/Al James - Schoolboy Facination/mixture.flac");
    let song = if mixture.exists() {
        looped_stereo(&audio_io::read(&mixture).unwrap().0.channels)
    } else {
        eprintln!(
            "NOTE: {} is absent; the reference is the pair mixed",
            mixture.display()
        );
        let v = audio_io::read(&vocal).unwrap().0.channels;
        let b = audio_io::read(&backing).unwrap().0.channels;
        (0..2)
            .map(|c| v[c].iter().zip(&b[c]).map(|(x, y)| 0.5 * (x + y)).collect())
            .collect()
    };
    let reference = dir.join("reference.wav");
    write_pcm16(&reference, &song);
    bench_options(&vocal, &backing, &reference, &dir.join("cache"));
    if std::env::var_os("AUTOMIX_BENCH_KEEP").is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    } else {
        println!("(files kept in {})", dir.display());
    }
}

/// The `automix` binary: Cargo's own when this bench is built in its package, else the release
/// build's (`benches/all.rs` in `clap-test-host` runs this bench beside the others).
pub fn automix_binary() -> PathBuf {
    option_env!("CARGO_BIN_EXE_automix")
        .map(PathBuf::from)
        .unwrap_or_else(|| automix_tests::workspace().join("target/release/automix"))
}

fn job(vocal: &Path, backing: &Path, gate: GateKind) -> AnalyzeJob {
    AnalyzeJob {
        gate,
        reference: Default::default(),
        vocal: vocal.to_path_buf(),
        backing: Some(backing.to_path_buf()),
        tempo_bpm: None,
        engine: Engine::Rules,
    }
}

/// Runs of each option (fewer than the main figures': the options are differences).
const OPTION_RUNS: usize = 3;

/// Best of [`OPTION_RUNS`] in-process analyses, each after `prepare` (reading a cached reference).
/// Also returns the compressor passes the search ran (a reference's loudness range may ask for
/// more than the default's).
fn best_analysis(job: &AnalyzeJob, prepare: &dyn Fn() -> Prepared) -> (f64, usize) {
    let mut times = Vec::new();
    let mut passes = 0;
    for _ in 0..OPTION_RUNS {
        let t = Instant::now();
        let job = AnalyzeJob {
            reference: prepare(),
            ..job.clone()
        };
        let s = suggest(&job, &mut |_| {}).unwrap();
        times.push(t.elapsed().as_secs_f64());
        passes = s.compression.passes;
        std::hint::black_box(s);
    }
    (best(&times), passes)
}

/// The analysis with the loudness gate, and with a reference whose measures are cached, against
/// the default (the VAD gate, no reference); and what measuring an uncached 3-minute reference
/// costs (issue 15: at most the separation benchmark's time; a cached one under 50 ms).
fn bench_options(vocal: &Path, backing: &Path, reference: &Path, cache: &Path) {
    let (default, default_passes) =
        best_analysis(&job(vocal, backing, GateKind::Vad), &Prepared::default);
    let (loudness, _) = best_analysis(&job(vocal, backing, GateKind::Loudness), &Prepared::default);
    let args = ReferenceArgs {
        references: vec![reference.to_path_buf()],
        cache: Some(cache.to_path_buf()),
        ..Default::default()
    };
    let t = Instant::now();
    args.prepare(&mut |_| {}).unwrap();
    let uncached = t.elapsed().as_secs_f64();
    let (cached, cached_passes) = best_analysis(&job(vocal, backing, GateKind::Vad), &|| {
        args.prepare(&mut |_| {}).unwrap()
    });
    // the same reference with the compressor at its default target: what the reference costs
    // apart from the compressor passes its loudness range asks for
    let level_only = ReferenceArgs {
        amount: automix::reference::amounts("compressor=0").unwrap(),
        ..args.clone()
    };
    let (same_search, _) = best_analysis(&job(vocal, backing, GateKind::Vad), &|| {
        level_only.prepare(&mut |_| {}).unwrap()
    });
    println!("options (vocal as recorded, in process, best of {OPTION_RUNS}):");
    println!(
        "  the VAD gate (the default) {:6.0} ms; the loudness gate {:6.0} ms: the VAD costs {:+.0} ms",
        1e3 * default,
        1e3 * loudness,
        1e3 * (default - loudness)
    );
    println!(
        "  with a cached reference    {:6.0} ms: {:+.0} ms, of which the compressor search its loudness range asks for {:+.0} ms ({cached_passes} passes against {default_passes}); the reference itself {:+.0} ms (goal < 50 ms)",
        1e3 * cached,
        1e3 * (cached - default),
        1e3 * (cached - same_search),
        1e3 * (same_search - default)
    );
    println!(
        "  measuring a {SECONDS} s reference once (decode, VAD, separation, measures): {:.2} s (goal: at most the separation benchmark's `automix separate` in process)",
        uncached
    );
}

fn bench_pair(label: &str, vocal: &Path, backing: &Path) {
    let mut decode = Vec::new();
    let mut analyze = Vec::new();
    // what ships: the CLI's defaults
    let job = job(vocal, backing, GateKind::Vad);
    let mut passes = 0;
    for _ in 0..RUNS {
        let t = Instant::now();
        audio_io::decode_only(vocal).unwrap();
        audio_io::decode_only(backing).unwrap();
        decode.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        let s = suggest(&job, &mut |_| {}).unwrap();
        analyze.push(t.elapsed().as_secs_f64());
        passes = s.compression.passes;
        std::hint::black_box(s);
    }
    let mut binary = Vec::new();
    let mut peak = 0u64;
    for _ in 0..3 {
        let (wall, rss) = run_measured(
            &automix_binary(),
            &[
                "analyze".as_ref(),
                "--vocal".as_ref(),
                vocal.as_os_str(),
                "--backing".as_ref(),
                backing.as_os_str(),
                "--json".as_ref(),
            ],
        );
        binary.push(wall);
        peak = peak.max(rss);
    }
    println!("vocal {label} ({passes} compressor passes in the search):");
    println!(
        "  decoding both files only (the floor): best {:6.0} ms, median {:6.0} ms",
        1e3 * best(&decode),
        1e3 * median(decode.clone())
    );
    println!(
        "  analysis incl. decoding (in process):  best {:6.0} ms, median {:6.0} ms  (goal ≤ 1000 ms; {:.1}× the floor)",
        1e3 * best(&analyze),
        1e3 * median(analyze.clone()),
        best(&analyze) / best(&decode)
    );
    println!(
        "  the automix binary, start to exit:     best {:6.0} ms; peak memory {:.0} MB (goal < 150 MB)",
        1e3 * best(&binary),
        peak as f64 / 1e6
    );
}
