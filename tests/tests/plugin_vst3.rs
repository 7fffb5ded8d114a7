//! The built VST3 bundle in real hosts, both from PyPI:
//! - pedalboard loads it, sets parameters by name as text, and renders what `automix render`
//!   renders with the same settings (the plug-in/CLI parity, within -100 dB);
//! - DawDreamer plays a real vocal into its main input and a real backing into its sidechain (the
//!   second stereo input, "Backing (sidechain)"), with parameters set as normalised values the way
//!   host automation sets them; the output equals `automix render`'s and does not change with
//!   what the sidechain carries (the backing is heard for analysis only, never mixed in).
//!
//! Analyze & Mix itself runs in the CLAP host test, not here: DawDreamer renders hundreds of times
//! faster than real time while telling plug-ins they run in real time, so a listening plug-in
//! must drop most of the song rather than stall the audio thread (it says so; see the worker's
//! test of exactly that).
//!
//! Needs the bundle (`cargo xtask bundle vocal_automix --release`), the `automix` release binary
//! and a Python with pedalboard, dawdreamer, numpy and soundfile (`target/iem-venv`); all three
//! come from `scripts/test.sh`. A missing part is said loudly and the test skips; with
//! `AUTOMIX_REQUIRE_PLUGIN` set (CI sets it) it fails instead.

use std::path::{Path, PathBuf};
use std::process::Command;

use automix_tests::{TempDir, difference_db, read_wav, shared_audio, stderr, write_wav};
use engine::synth::vocal_line;
use engine::{PARAMS, ParamId, ParamSpec};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn skip<T>(why: String) -> Option<T> {
    eprintln!("SKIPPED: {why}");
    if std::env::var_os("AUTOMIX_REQUIRE_PLUGIN").is_some() {
        panic!("AUTOMIX_REQUIRE_PLUGIN is set but {why}");
    }
    None
}

struct Host {
    bundle: PathBuf,
    python: PathBuf,
    automix: PathBuf,
}

/// The bundle, the `automix` binary and a Python that has `module`.
fn host(module: &str) -> Option<Host> {
    let bundle = workspace().join("target/bundled/Vocal Automix.vst3");
    if !bundle.exists() {
        return skip(format!(
            "{} is not built (cargo xtask bundle vocal_automix --release)",
            bundle.display()
        ));
    }
    let automix = workspace().join("target/release/automix");
    if !automix.exists() {
        return skip(format!(
            "{} is not built (cargo build --release -p automix)",
            automix.display()
        ));
    }
    let python = std::env::var_os("IEM_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("target/iem-venv/bin/python"));
    let ok = Command::new(&python)
        .args(["-c", &format!("import {module}, numpy, soundfile")])
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        return skip(format!(
            "{} has no {module} (scripts/test.sh installs it)",
            python.display()
        ));
    }
    Some(Host {
        bundle,
        python,
        automix,
    })
}

impl Host {
    /// Runs one of `tests/plugin/*.py`; its standard output.
    fn script(&self, name: &str, args: &[String]) -> String {
        let out = Command::new(&self.python)
            .arg(workspace().join("tests/plugin").join(name))
            .arg(&self.bundle)
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "{name}: {}", stderr(&out));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// `automix render` of `vocal` with `settings` (values in the parameters' units); the
    /// processed vocal it writes.
    fn render(
        &self,
        dir: &TempDir,
        vocal: &Path,
        backing: Option<&Path>,
        settings: &[(ParamId, f32)],
    ) -> Vec<Vec<f32>> {
        let json: serde_json::Map<String, serde_json::Value> = settings
            .iter()
            .map(|(id, v)| (id.key().to_string(), (*v as f64).into()))
            .collect();
        std::fs::write(
            dir.path("params.json"),
            serde_json::Value::Object(json).to_string(),
        )
        .unwrap();
        let mut cmd = Command::new(&self.automix);
        cmd.args(["render", "--vocal"])
            .arg(vocal)
            .args(["--params", &dir.s("params.json")])
            .args(["--out", &dir.s("cli.wav")]);
        if let Some(b) = backing {
            cmd.arg("--backing").arg(b);
        }
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "automix render: {}", stderr(&out));
        read_wav(&dir.path("cli.wav")).1
    }
}

#[test]
fn pedalboard_loads_the_vst3_and_renders_what_automix_render_renders() {
    let Some(host) = host("pedalboard") else {
        return;
    };
    let dir = TempDir::new("vst3-pedalboard");
    let rate = 48_000u32;
    let input = [
        vocal_line(rate as f32, 4.0, 0.6, 3),
        vocal_line(rate as f32, 4.0, 0.5, 4),
    ];
    write_wav(&dir.path("in.wav"), rate, &input);

    // set by pedalboard's names for the parameters (derived from their display names), as the
    // plug-in's own text (pedalboard accepts only texts the plug-in displays)
    let settings = [
        ("eq_250_hz_gain", ParamId::EqGain250, -4.0),
        ("eq_4_khz_gain", ParamId::EqGain4k, 3.0),
        ("comp_threshold", ParamId::CompThreshold, -24.0),
        ("comp_ratio", ParamId::CompRatio, 4.0),
        ("reverb_dry_wet", ParamId::ReverbDryWet, 0.2),
        ("vocal_level", ParamId::LevelGain, -3.0),
    ];
    let mut args = vec![dir.s("in.wav"), dir.s("out.wav")];
    args.extend(
        settings
            .iter()
            .map(|(n, id, v)| format!("{n}={}", id.spec().format(*v))),
    );
    let listing = host.script("pedalboard_render.py", &args);
    // every chain parameter, plus the Analyze & Mix trigger, the assistant's engine and the
    // host's bypass
    assert_eq!(
        listing.lines().count(),
        PARAMS.len() + 3,
        "every parameter is visible to the host:\n{listing}"
    );
    assert!(
        ["analyze_mix\t", "assistant_engine\t", "bypass\t"]
            .iter()
            .all(|key| listing.lines().any(|l| l.starts_with(key))),
        "the Analyze & Mix trigger, the engine and the bypass are visible to the host:\n{listing}"
    );

    let settings: Vec<(ParamId, f32)> = settings.iter().map(|(_, id, v)| (*id, *v)).collect();
    let want = host.render(&dir, &dir.path("in.wav"), None, &settings);
    let (_, got) = read_wav(&dir.path("out.wav"));
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].len(), want[0].len());
    let db = difference_db(&got, &want);
    println!("pedalboard vs automix render: largest difference {db:.1} dB re peak");
    assert!(db < -100.0, "{db} dB");
}

/// A parameter by its display name.
fn named(name: &str) -> &'static ParamSpec {
    PARAMS.iter().find(|p| p.name == name).unwrap()
}

#[test]
fn dawdreamer_feeds_the_sidechain_and_the_vst3_renders_what_automix_render_renders() {
    let Some(host) = host("dawdreamer") else {
        return;
    };
    let (Some(vocal), Some(backing)) = (
        shared_audio("clips/vocadito_1_vocal.wav"),
        shared_audio("backings/vibe_ace_instrumental.ogg"),
    ) else {
        return;
    };
    let dir = TempDir::new("vst3-dawdreamer");
    // automation moves normalised values; the ends of a range are its exact limits, which the
    // CLI is then given as numbers
    let research = [
        ("EQ 4 kHz Gain", 1.0),
        ("EQ 250 Hz Gain", 0.0),
        ("EQ High-pass", 1.0),
        ("Comp Threshold", 0.0),
        ("Comp Attack", 0.0),
        ("Reverb Fade-in", 0.0),
        ("Reverb FDN Size", 1.0),
    ];
    // the ride follows the sidechain (to a balance far under where the vocal sits, so that it
    // moves), the de-esser works on the EQ's 4 kHz boost
    let riding: Vec<(&str, f32)> = research
        .iter()
        .copied()
        .chain([("Ride", 1.0), ("Ride Balance", 0.0), ("De-esser", 1.0)])
        .collect();
    for (settings, rides) in [(&research[..], false), (&riding[..], true)] {
        let args = |backing: String, out: &str| {
            let mut a = vec![vocal.display().to_string(), backing, dir.s(out)];
            a.extend(settings.iter().map(|(n, v)| format!("{n}={v}")));
            a
        };
        let listing = host.script(
            "dawdreamer_render.py",
            &args(backing.display().to_string(), "fed.wav"),
        );
        let mut lines = listing.lines();
        assert_eq!(
            lines.next(),
            Some("4"),
            "DawDreamer sees the main input and the sidechain: two stereo inputs"
        );
        let shown: Vec<(&str, &str)> = lines.filter_map(|l| l.split_once('\t')).collect();
        let mut expected = Vec::new();
        for (name, v) in settings {
            let spec = named(name);
            let value = if *v == 0.0 { spec.min } else { spec.max };
            let text = shown.iter().find(|(n, _)| n == name).unwrap().1;
            assert_eq!(text, spec.format(value), "{name} as the plug-in shows it");
            expected.push((spec.id, value));
        }

        host.script("dawdreamer_render.py", &args("-".into(), "alone.wav"));
        let (_, fed) = read_wav(&dir.path("fed.wav"));
        let (_, alone) = read_wav(&dir.path("alone.wav"));
        assert!(fed.iter().flatten().all(|x| x.is_finite()));
        if rides {
            // the ride hears the backing: without it the vocal keeps its static level
            let moved = difference_db(&fed, &alone);
            println!("ride on: the sidechain moves the output by up to {moved:.1} dB re peak");
            assert!(
                moved > -40.0,
                "the ride did not follow the sidechain ({moved} dB)"
            );
        } else {
            assert_eq!(
                fed, alone,
                "ride off, the sidechain is for analysis: what it carries never reaches the output"
            );
        }

        let want = host.render(&dir, &vocal, rides.then_some(backing.as_path()), &expected);
        // DawDreamer renders whole samples of the song's length in seconds: one fewer at most
        assert!(
            want[0].len() - fed[0].len() <= 1,
            "{} vs {}",
            fed[0].len(),
            want[0].len()
        );
        let db = difference_db(&fed, &want);
        println!(
            "DawDreamer (sidechain fed{}) vs automix render: largest difference {db:.1} dB re peak",
            if rides { ", ride and de-esser on" } else { "" }
        );
        assert!(db < -100.0, "{db} dB");
    }
}
