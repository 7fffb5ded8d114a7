//! The CNN engine: the built-in models load and run on tract, the engines decide the stages they
//! should, a broken or missing model falls back to the rules with a warning, and the suggestion
//! records who decided what.

use std::path::Path;

use engine::analysis::cnn::{BUILT_IN_MANIFEST, CnnModels, ModelSource, built_in_model};
use engine::analysis::cnn_backend::BackendKind;
use engine::analysis::suggestion::Decider;
use engine::analysis::{ANALYSIS_RATE, AnalysisInput, Engine, MixSuggestion, Track, analyze};
use engine::params::Stage;
use engine::synth::{backing_track, vocal_line};
use engine::{PARAMS, ParamId};

const SR: f32 = ANALYSIS_RATE as f32;

fn song(seconds: f32) -> (Track, Track) {
    let v = vocal_line(SR, seconds, 0.5, 3);
    let b = backing_track(SR, seconds, 110.0, 0.4, 4);
    (
        Track::from_channels(&[v], ANALYSIS_RATE).unwrap(),
        Track::from_channels(&b, ANALYSIS_RATE).unwrap(),
    )
}

fn run(engine: Engine, models: &CnnModels, vocal: &Track, backing: &Track) -> MixSuggestion {
    analyze(
        &AnalysisInput {
            keep: None,
            vad_gate: None,
            vocal,
            backing: Some(backing),
            tempo_bpm: None,
            engine,
            models: Some(models),
            targets: None,
        },
        &mut |_, _| true,
    )
    .unwrap()
}

fn deciders(s: &MixSuggestion) -> [Decider; 4] {
    [
        s.stages.eq,
        s.stages.compressor,
        s.stages.reverb,
        s.stages.level,
    ]
}

/// A models folder holding the built-in files, `edit` applied to its models.json.
fn folder(dir: &Path, edit: impl FnOnce(&mut serde_json::Value)) {
    let mut manifest: serde_json::Value = serde_json::from_str(BUILT_IN_MANIFEST).unwrap();
    for task in Stage::ALL {
        let file = format!("{}.onnx", task.model_name());
        std::fs::write(dir.join(&file), built_in_model(&file).unwrap()).unwrap();
    }
    edit(&mut manifest);
    std::fs::write(dir.join("models.json"), manifest.to_string()).unwrap();
}

fn tempdir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("automix-cnn-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Held-out figures that trust every output of every model (the machinery's tests need models
/// that decide; the shipped ones are trusted with the reverb alone).
fn trust_all(m: &mut serde_json::Value) {
    for task in Stage::ALL {
        let entry = &mut m["models"][task.model_name()];
        let names: Vec<String> = entry["outputs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["name"].as_str().unwrap().to_string())
            .collect();
        let h = &mut entry["held_out"];
        h["examples"] = 100.into();
        h["mae_normalised"] = 0.1.into();
        h["mean_predictor_mae_normalised"] = 0.2.into();
        h["mae"] = names
            .iter()
            .map(|n| (n.clone(), serde_json::Value::from(1.0)))
            .collect::<serde_json::Map<_, _>>()
            .into();
        h["mean_predictor_mae"] = names
            .iter()
            .map(|n| (n.clone(), serde_json::Value::from(2.0)))
            .collect::<serde_json::Map<_, _>>()
            .into();
    }
}

#[test]
fn the_shipped_models_decide_only_what_their_held_out_figures_trust_them_with() {
    let models = CnnModels::built_in();
    assert_eq!(models.source, ModelSource::BuiltIn);
    let (vocal, backing) = song(12.0);
    let rules = run(Engine::Rules, &models, &vocal, &backing);
    for engine in [Engine::Cnn, Engine::Auto] {
        let s = run(engine, &models, &vocal, &backing);
        // the EQ model beat the dataset mean on no band; level and compression were trained on
        // one song (nothing held out); the reverb model beat the mean
        assert_eq!(
            deciders(&s),
            [Decider::Rules, Decider::Rules, Decider::Cnn, Decider::Rules],
            "{:?}",
            s.cnn
        );
        assert_eq!(s.eq.bands, rules.eq.bands);
        assert_eq!(s.eq.filters, rules.eq.filters);
        assert_eq!(
            s.level.target_below_backing_lu,
            rules.level.target_below_backing_lu
        );
        assert!(
            s.compression
                .reason
                .starts_with("the compression CNN has no held-out figures")
        );
        assert!(
            s.level.reason.contains("no held-out figures"),
            "{}",
            s.level.reason
        );
        assert!(
            s.eq.reason.contains("beat the dataset mean on none"),
            "{}",
            s.eq.reason
        );
        // the reverb's shelves, where the model did not beat the mean, keep the rules' values
        assert_eq!(
            s.params.get(ParamId::ReverbHighCutoff),
            rules.params.get(ParamId::ReverbHighCutoff)
        );
    }
}

#[test]
fn the_built_in_models_load_on_tract_and_answer_in_their_ranges() {
    let dir = tempdir("trusted");
    folder(&dir, trust_all);
    let models = CnnModels::from_folder(&dir);
    assert_eq!(models.backend_kind, BackendKind::Tract);
    assert!(models.warnings.is_empty(), "{:?}", models.warnings);
    let (vocal, backing) = song(12.0);
    let s = run(Engine::Cnn, &models, &vocal, &backing);
    assert_eq!(s.engine, "cnn");
    let report = s.cnn.as_ref().unwrap();
    assert_eq!(report.backend, "tract (built in)");
    for (stage, decider) in report.stages.iter().zip(deciders(&s)) {
        // a prediction outside the training range is not applied, and says so
        if !stage.used {
            assert!(stage.reason.contains("outside"), "{stage:?}");
            assert_eq!(decider, Decider::Rules);
            continue;
        }
        assert_eq!(decider, Decider::Cnn);
        assert!(stage.blocks >= 5, "{stage:?}");
        let model = models
            .get(Stage::ALL[report.stages.iter().position(|x| x == stage).unwrap()])
            .unwrap();
        assert_eq!(stage.predictions.len(), model.outputs.len());
        for (p, o) in stage.predictions.iter().zip(&model.outputs) {
            assert_eq!(p.output, o.name);
            assert!(
                p.value >= o.min - 1e-3 && p.value <= o.max + 1e-3,
                "{p:?} {o:?}"
            );
        }
    }
    // the EQ applies at most four bands; every parameter is inside its range
    let eq_bands = engine::params::EQ_BANDS
        .iter()
        .filter(|(_, g, _)| s.params.get(*g) != 0.0)
        .count();
    assert!(eq_bands <= 4, "{eq_bands} bands");
    assert_eq!(s.eq.filters.len(), eq_bands);
    for spec in PARAMS {
        let v = s.params.get(spec.id);
        assert!(
            v.is_finite() && v >= spec.min && v <= spec.max,
            "{}: {v}",
            spec.key
        );
    }
    // the reverb settings are the model's, not the tempo rule's means
    let reverb = &report.stages[2];
    assert!(reverb.used, "{reverb:?}");
    let room = reverb
        .predictions
        .iter()
        .find(|p| p.output == "reverb_room_size")
        .unwrap();
    assert!((s.params.get(ParamId::ReverbRoomSize) - room.value).abs() < 1e-2);
}

#[test]
fn rules_ignore_the_models_and_auto_follows_the_held_out_figures() {
    let (vocal, backing) = song(10.0);
    let models = CnnModels::built_in();
    let rules = run(Engine::Rules, &models, &vocal, &backing);
    assert_eq!(deciders(&rules), [Decider::Rules; 4]);
    assert!(rules.cnn.is_none());

    // Auto uses a stage's CNN exactly when its held-out error beat the dataset mean's
    let dir = tempdir("auto");
    folder(&dir, |m| {
        for (task, beats) in [
            ("eq", true),
            ("compression", false),
            ("reverb", true),
            ("level", false),
        ] {
            let h = &mut m["models"][task]["held_out"];
            h["examples"] = 100.into();
            h["mae_normalised"] = if beats { 0.1 } else { 0.3 }.into();
            h["mean_predictor_mae_normalised"] = 0.2.into();
        }
    });
    folder(&dir, |m| {
        trust_all(m);
        for (task, beats) in [
            ("eq", true),
            ("compression", false),
            ("reverb", true),
            ("level", false),
        ] {
            m["models"][task]["held_out"]["mae_normalised"] = if beats { 0.1 } else { 0.3 }.into();
        }
    });
    let edited = CnnModels::from_folder(&dir);
    assert!(edited.warnings.is_empty(), "{:?}", edited.warnings);
    let auto = run(Engine::Auto, &edited, &vocal, &backing);
    assert_eq!(
        deciders(&auto),
        [Decider::Cnn, Decider::Rules, Decider::Cnn, Decider::Rules]
    );
    let report = auto.cnn.unwrap();
    assert!(
        report.stages[1].reason.contains("Auto keeps the rules"),
        "{}",
        report.stages[1].reason
    );
    // a stage Auto leaves to the rules decides as the rules engine does
    assert_eq!(auto.compression.target_lu, rules.compression.target_lu);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_corrupt_or_missing_model_falls_back_to_the_rules_with_a_warning() {
    let (vocal, backing) = song(10.0);
    let rules = run(Engine::Rules, &CnnModels::built_in(), &vocal, &backing);

    let dir = tempdir("corrupt");
    folder(&dir, trust_all);
    // the EQ model cut in half, the level model gone
    let eq = built_in_model("eq.onnx").unwrap();
    std::fs::write(dir.join("eq.onnx"), &eq[..eq.len() / 2]).unwrap();
    std::fs::remove_file(dir.join("level.onnx")).unwrap();
    let models = CnnModels::from_folder(&dir);
    assert_eq!(models.warnings.len(), 2, "{:?}", models.warnings);
    assert!(models.warnings[0].contains("EQ model") && models.warnings[0].contains("rules"));
    assert!(
        models.warnings[1].contains("level model") && models.warnings[1].contains("level.onnx")
    );
    let s = run(Engine::Cnn, &models, &vocal, &backing);
    // the compressor's model may decide, or find its prediction outside its training range
    let d = deciders(&s);
    assert_eq!(
        [d[0], d[2], d[3]],
        [Decider::Rules, Decider::Cnn, Decider::Rules]
    );
    assert_eq!(
        s.warnings.iter().filter(|w| w.code == "cnn_model").count(),
        2,
        "{:?}",
        s.warnings
    );
    // the rules' EQ, exactly
    assert_eq!(s.eq.bands, rules.eq.bands);
    assert_eq!(s.eq.filters, rules.eq.filters);

    // a models.json that is not one: every stage keeps the rules, and it says why
    std::fs::write(dir.join("models.json"), "{ not json").unwrap();
    let models = CnnModels::from_folder(&dir);
    let s = run(Engine::Cnn, &models, &vocal, &backing);
    assert_eq!(deciders(&s), [Decider::Rules; 4]);
    assert!(
        s.warnings
            .iter()
            .any(|w| w.message.contains("models.json is not readable")),
        "{:?}",
        s.warnings
    );
    // a model whose outputs do not match its entry
    folder(&dir, |m| {
        m["models"]["eq"]["outputs"] = m["models"]["level"]["outputs"].clone();
    });
    let models = CnnModels::from_folder(&dir);
    assert!(
        models
            .warnings
            .iter()
            .any(|w| w.contains("EQ model") && w.contains("shape")),
        "{:?}",
        models.warnings
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_vocal_too_short_for_one_block_keeps_the_rules_and_says_so() {
    let (vocal, backing) = song(1.2);
    let s = run(Engine::Cnn, &CnnModels::built_in(), &vocal, &backing);
    assert_eq!(s.stages.eq, Decider::Rules);
    assert!(
        s.warnings
            .iter()
            .any(|w| w.code == "cnn_too_little_singing"),
        "{:?}",
        s.warnings
    );
}
