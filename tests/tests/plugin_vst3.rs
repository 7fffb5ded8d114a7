//! The built VST3 bundle in a real host (pedalboard, from PyPI): it loads, its parameters are
//! set by name as text, and its output equals the engine's render of the same settings.
//!
//! Needs the bundle (`cargo xtask bundle vocal_automix --release`, which `scripts/setup.sh` runs)
//! and a Python with pedalboard, numpy and soundfile (`target/iem-venv`, which setup makes). A
//! missing part is said loudly and the test skips; with `AUTOMIX_REQUIRE_PLUGIN` set (CI sets it)
//! it fails instead.

use std::path::{Path, PathBuf};
use std::process::Command;

use automix_tests::{difference_db, engine_render_stereo, read_wav, write_wav};
use engine::synth::vocal_line;
use engine::{MixParams, ParamId};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn skip(why: String) -> Option<(PathBuf, PathBuf)> {
    eprintln!("SKIPPED: {why}");
    if std::env::var_os("AUTOMIX_REQUIRE_PLUGIN").is_some() {
        panic!("AUTOMIX_REQUIRE_PLUGIN is set but {why}");
    }
    None
}

/// The bundle and a Python that has pedalboard.
fn host() -> Option<(PathBuf, PathBuf)> {
    let bundle = workspace().join("target/bundled/Vocal Automix.vst3");
    if !bundle.exists() {
        return skip(format!(
            "{} is not built (cargo xtask bundle vocal_automix --release)",
            bundle.display()
        ));
    }
    let python = std::env::var_os("IEM_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("target/iem-venv/bin/python"));
    let ok = Command::new(&python)
        .args(["-c", "import pedalboard, numpy, soundfile"])
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        return skip(format!(
            "{} has no pedalboard (scripts/setup.sh installs it)",
            python.display()
        ));
    }
    Some((bundle, python))
}

#[test]
fn pedalboard_loads_the_vst3_and_renders_what_the_engine_renders() {
    let Some((bundle, python)) = host() else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("automix-vst3-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let rate = 48_000u32;
    let input = [
        vocal_line(rate as f32, 4.0, 0.6, 3),
        vocal_line(rate as f32, 4.0, 0.5, 4),
    ];
    write_wav(&dir.join("in.wav"), rate, &input);

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
    let mut args: Vec<String> = vec![
        workspace()
            .join("tests/plugin/pedalboard_render.py")
            .display()
            .to_string(),
        bundle.display().to_string(),
        dir.join("in.wav").display().to_string(),
        dir.join("out.wav").display().to_string(),
    ];
    args.extend(
        settings
            .iter()
            .map(|(n, id, v)| format!("{n}={}", id.spec().format(*v))),
    );
    let out = Command::new(&python).args(&args).output().unwrap();
    assert!(
        out.status.success(),
        "pedalboard: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let listing = String::from_utf8_lossy(&out.stdout);
    // every chain parameter, plus the Analyze & Mix trigger
    assert_eq!(
        listing.lines().count(),
        engine::PARAMS.len() + 1,
        "every parameter is visible to the host:\n{listing}"
    );
    assert!(
        listing.lines().any(|l| l.starts_with("analyze_mix\t")),
        "the Analyze & Mix trigger is visible to the host:\n{listing}"
    );

    // the engine, with the values the host ended with
    let mut p = MixParams::default();
    for (_, id, v) in settings {
        p.set(id, v);
    }
    let want = engine_render_stereo(&p, rate as f32, &input);
    let (_, got) = read_wav(&dir.join("out.wav"));
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(got.len(), 2);
    let db = difference_db(&got, &want);
    println!("pedalboard vs engine: largest difference {db:.1} dB re peak");
    assert!(db < -100.0, "{db} dB");
}
