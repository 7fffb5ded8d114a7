//! `automix analyze --engine cnn|auto` end to end on real audio (the built-in models on tract),
//! the fallback when the user's models folder holds a corrupt model, and the training package's
//! own tests (pytest: generation → training steps → export → this binary's inference).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use automix_tests::{TempDir, pytest, shared_audio, stderr, workspace};

fn automix(args: &[&str], models: Option<&Path>) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_automix"));
    c.args(args).env_remove("VOCAL_AUTOMIX_ONNXRUNTIME");
    match models {
        Some(dir) => c.env("VOCAL_AUTOMIX_MODELS", dir),
        None => c.env_remove("VOCAL_AUTOMIX_MODELS"),
    };
    c.output().unwrap()
}

fn suggestion(out: &Output) -> serde_json::Value {
    assert!(out.status.success(), "{}", stderr(out));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// `automix analyze … --json --engine ENGINE`'s arguments.
fn analyze_json<'a>(vocal: &'a str, backing: &'a str, engine: &'a str) -> Vec<&'a str> {
    vec![
        "analyze",
        "--vocal",
        vocal,
        "--backing",
        backing,
        "--json",
        "--engine",
        engine,
    ]
}

fn song() -> Option<(String, String)> {
    let v = shared_audio("clips/vocadito_1_vocal.wav")?;
    let b = shared_audio("backings/vibe_ace_instrumental.ogg")?;
    Some((v.display().to_string(), b.display().to_string()))
}

/// Whether a model's held-out figures let it decide: some held out, and an output whose error
/// beat the dataset mean's.
fn trusted(h: &serde_json::Value) -> bool {
    h["examples"].as_u64().unwrap_or(0) > 0
        && h["mae_normalised"].is_number()
        && h["mae"].as_object().is_some_and(|mae| {
            mae.iter().any(|(k, v)| {
                h["mean_predictor_mae"][k]
                    .as_f64()
                    .is_some_and(|b| v.as_f64().unwrap() < b)
            })
        })
}

#[test]
fn analyze_with_the_cnn_and_auto_engines_on_real_audio() {
    let Some((vocal, backing)) = song() else {
        return;
    };
    let args = |engine| analyze_json(&vocal, &backing, engine);
    let cnn = suggestion(&automix(&args("cnn"), None));
    assert_eq!(cnn["engine"], "cnn");
    assert_eq!(cnn["cnn"]["backend"], "tract (built in)");
    assert_eq!(cnn["cnn"]["models"], "built in");
    let stages = cnn["cnn"]["stages"].as_array().unwrap();
    assert_eq!(stages.len(), 4);
    let manifest: serde_json::Value =
        serde_json::from_str(engine::analysis::cnn::BUILT_IN_MANIFEST).unwrap();
    for (s, (name, task)) in stages.iter().zip([
        ("eq", "eq"),
        ("compressor", "compression"),
        ("reverb", "reverb"),
        ("level", "level"),
    ]) {
        assert_eq!(s["stage"], name);
        // the CNN engine lets a model decide only what its held-out figures trust it with
        let trusted = trusted(&manifest["models"][task]["held_out"]);
        assert_eq!(s["used"], trusted, "{s}");
        if trusted {
            assert_eq!(cnn["stages"][name], "cnn");
            // vocadito's 33 s hold well over ten blocks of singing
            assert!(s["blocks"].as_u64().unwrap() >= 10, "{s}");
            for p in s["predictions"].as_array().unwrap() {
                assert!(p["value"].as_f64().unwrap().is_finite(), "{p}");
            }
        } else {
            // and the stage's own reason says why the rules decided
            assert_eq!(cnn["stages"][name], "rules");
            let why = s["reason"].as_str().unwrap();
            assert!(why.contains("the rules decide"), "{s}");
            let key = if name == "compressor" {
                "compression"
            } else {
                name
            };
            let reason = cnn[key]["reason"].as_str().unwrap();
            assert!(reason.starts_with(why), "{reason}");
        }
    }
    assert!(
        stages.iter().any(|s| s["used"] == true),
        "the shipped reverb model is trusted"
    );
    // the text report says who decided
    let text = automix(
        &[
            "analyze",
            "--vocal",
            &vocal,
            "--backing",
            &backing,
            "--engine",
            "cnn",
        ],
        None,
    );
    assert!(text.status.success(), "{}", stderr(&text));
    let shown = String::from_utf8_lossy(&text.stdout);
    assert!(shown.contains("CNN"), "{shown}");

    // Auto: per stage as models.json's held-out figures say
    let auto = suggestion(&automix(&args("auto"), None));
    for (task, stage) in [
        ("eq", "eq"),
        ("compression", "compressor"),
        ("reverb", "reverb"),
        ("level", "level"),
    ] {
        let h = &manifest["models"][task]["held_out"];
        let beats = trusted(h)
            && h["mae_normalised"].as_f64().unwrap()
                < h["mean_predictor_mae_normalised"].as_f64().unwrap();
        assert_eq!(
            auto["stages"][stage],
            if beats { "cnn" } else { "rules" },
            "{task}: {h}"
        );
    }
}

#[test]
fn a_corrupt_model_in_the_users_folder_falls_back_to_the_rules_with_a_warning() {
    let Some((vocal, backing)) = song() else {
        return;
    };
    let dir = TempDir::new("corrupt-models");
    let models = dir.path("models");
    std::fs::create_dir_all(&models).unwrap();
    std::fs::write(
        models.join("models.json"),
        engine::analysis::cnn::BUILT_IN_MANIFEST,
    )
    .unwrap();
    for name in ["eq", "compression", "reverb", "level"] {
        let file = format!("{name}.onnx");
        let bytes = engine::analysis::cnn::built_in_model(&file).unwrap();
        std::fs::write(models.join(&file), bytes).unwrap();
    }
    std::fs::write(models.join("reverb.onnx"), b"not an onnx model").unwrap();
    let out = automix(&analyze_json(&vocal, &backing, "cnn"), Some(&models));
    let s = suggestion(&out);
    assert_eq!(s["stages"]["reverb"], "rules");
    // the reverb model is the one the shipped set trusts; the others keep the rules anyway
    let reverb = s["cnn"]["stages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|st| st["stage"] == "reverb")
        .unwrap()
        .clone();
    assert_eq!(reverb["used"], false, "{reverb}");
    assert!(
        reverb["reason"]
            .as_str()
            .unwrap()
            .contains("no usable model"),
        "{reverb}"
    );
    let warned = s["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|w| w["code"] == "cnn_model" && w["message"].as_str().unwrap().contains("reverb"));
    assert!(warned, "{}", s["warnings"]);
    // and the user sees it on the terminal too
    assert!(stderr(&out).contains("reverb model"), "{}", stderr(&out));
}

/// The training package's pytest suite, with this build of `automix`.
#[test]
fn training_pipeline_pytest() {
    let python = std::env::var_os("AUTOMIX_TRAINING_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("target/training-venv/bin/python"));
    let ready = python.exists()
        && Command::new(&python)
            .args(["-c", "import torch, onnx, onnxruntime, pytest"])
            .status()
            .is_ok_and(|s| s.success());
    if !ready {
        eprintln!(
            "SKIPPED: no training Python at {} (scripts/training-venv.sh makes it); the training package's tests did not run",
            python.display()
        );
        assert!(
            std::env::var_os("AUTOMIX_REQUIRE_TRAINING").is_none(),
            "AUTOMIX_REQUIRE_TRAINING is set but the training Python is missing"
        );
        return;
    }
    pytest(
        &python,
        &workspace().join("training"),
        "tests",
        env!("CARGO_BIN_EXE_automix"),
        &[("AUTOMIX_REQUIRE_TRAINING", "1")],
    );
}
