//! The CNN assistant's cost on one core: a 3-minute song analysed with all four models (features,
//! the chain renders each model's input needs, inference) — the shipped files with held-out
//! figures that trust them all, the worst case — beside the rules and the models as shipped on the
//! same song, and the inference alone per block at batch 1 and batch 64.
//!
//! Runs on tract (built in). When ONNX Runtime's library is present — `VOCAL_AUTOMIX_ONNXRUNTIME`,
//! or the `onnxruntime` wheel in `target/training-venv` (scripts/training-venv.sh) — the same
//! figures follow for it, measured in a second process (ort's backend is chosen once per
//! process). `cargo bench -p engine --bench cnn_inference`.

use std::path::PathBuf;
use std::time::Instant;

use automix_tests::measure::{rerun_on_onnxruntime, take_onnxruntime_library};
use engine::analysis::cnn::{BATCH, CnnModels};
use engine::analysis::cnn_features::{BLOCK_LEN, FeatureBlocks, feature_blocks};
use engine::analysis::{ANALYSIS_RATE, AnalysisInput, Engine, Track, analyze};
use engine::params::Stage;
use engine::synth::{backing_track, vocal_line};

const SECONDS: f32 = 180.0;
const CHILD: &str = "--onnxruntime-child";

fn best_of<T>(runs: usize, mut f: impl FnMut() -> T) -> f64 {
    (0..runs)
        .map(|_| {
            let t = Instant::now();
            std::hint::black_box(f());
            t.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}

/// A folder with the models `shipped` holds (built in, or the user's) and a `models.json` whose
/// held-out figures trust every output.
fn trusting_folder(shipped: &CnnModels) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("automix-bench-models-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let source = match &shipped.source {
        engine::analysis::cnn::ModelSource::Folder(p) => Some(p.clone()),
        engine::analysis::cnn::ModelSource::BuiltIn => None,
    };
    let text = match &source {
        Some(p) => std::fs::read_to_string(p.join("models.json")).unwrap(),
        None => engine::analysis::cnn::BUILT_IN_MANIFEST.to_string(),
    };
    let mut manifest: serde_json::Value = serde_json::from_str(&text).unwrap();
    for stage in Stage::ALL {
        let file = format!("{}.onnx", stage.model_name());
        let bytes = match &source {
            Some(p) => std::fs::read(p.join(&file)).unwrap(),
            None => engine::analysis::cnn::built_in_model(&file)
                .unwrap()
                .to_vec(),
        };
        std::fs::write(dir.join(&file), bytes).unwrap();
        let entry = &mut manifest["models"][stage.model_name()];
        let names: Vec<String> = entry["outputs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["name"].as_str().unwrap().to_string())
            .collect();
        let figures = |v: f64| {
            serde_json::Value::from(
                names
                    .iter()
                    .map(|n| (n.clone(), serde_json::Value::from(v)))
                    .collect::<serde_json::Map<_, _>>(),
            )
        };
        let h = &mut entry["held_out"];
        h["examples"] = 100.into();
        h["mae_normalised"] = 0.1.into();
        h["mean_predictor_mae_normalised"] = 0.2.into();
        h["mae"] = figures(1.0);
        h["mean_predictor_mae"] = figures(2.0);
    }
    std::fs::write(dir.join("models.json"), manifest.to_string()).unwrap();
    dir
}

fn figures(label: &str) {
    let sr = ANALYSIS_RATE as f32;
    let vocal = Track::from_channels(&[vocal_line(sr, SECONDS, 0.5, 7)], ANALYSIS_RATE).unwrap();
    let backing =
        Track::from_channels(&backing_track(sr, SECONDS, 120.0, 0.4, 8), ANALYSIS_RATE).unwrap();
    let t = Instant::now();
    let shipped = CnnModels::load();
    let load = t.elapsed().as_secs_f64();
    // the worst case, a retrained set whose held-out figures trust all four models: the same
    // files with every output marked as having beaten the dataset mean
    let dir = trusting_folder(&shipped);
    let models = CnnModels::from_folder(&dir);
    for w in shipped.warnings.iter().chain(&models.warnings) {
        println!("warning: {w}");
    }
    println!(
        "{label}: {} ({}), loaded and warmed up in {:.0} ms",
        shipped.backend,
        shipped.source,
        load * 1e3
    );

    let run = |engine, models: &CnnModels| {
        analyze(
            &AnalysisInput {
                keep: None,
                vad_gate: None,
                vocal: &vocal,
                backing: Some(&backing),
                tempo_bpm: Some(120.0),
                engine,
                models: Some(models),
                targets: None,
            },
            &mut |_, _| true,
        )
        .unwrap()
    };
    let used = |s: &engine::analysis::MixSuggestion| {
        s.cnn
            .as_ref()
            .map_or(0, |r| r.stages.iter().filter(|s| s.used).count())
    };
    // the models that ran (a prediction outside its training range runs, then is not applied)
    let all = run(Engine::Cnn, &models)
        .cnn
        .map_or(0, |r| r.stages.iter().filter(|s| s.blocks > 0).count());
    let t_cnn = best_of(3, || run(Engine::Cnn, &models));
    let t_rules = best_of(3, || run(Engine::Rules, &models));
    println!(
        "{label}: analysis of a {SECONDS:.0} s song, CNN engine ({all} of 4 models run): {t_cnn:.2} s; rules: {t_rules:.2} s (CNN/rules {:.2}×); the goal is 1.5 s",
        t_cnn / t_rules
    );
    let trusted = used(&run(Engine::Cnn, &shipped));
    let t_shipped = best_of(3, || run(Engine::Cnn, &shipped));
    println!(
        "{label}: the same with the models as shipped ({trusted} of 4 trusted by their held-out figures): {t_shipped:.2} s"
    );
    std::fs::remove_dir_all(&dir).ok();

    models_alone(label, &models, &vocal, &backing);
}

/// The models alone on the song's blocks (features included, chain renders not), then per block
/// at three batch sizes.
fn models_alone(label: &str, models: &CnnModels, vocal: &Track, backing: &Track) {
    let blocks = feature_blocks(&vocal.mono, Some(&backing.mono));
    let t_features = best_of(3, || feature_blocks(&vocal.mono, Some(&backing.mono)));
    let t_models = best_of(3, || {
        for task in Stage::ALL {
            if let Some(m) = models.get(task) {
                m.predict(&blocks, BATCH).unwrap();
            }
        }
    });
    println!(
        "{label}: {} blocks: features {:.0} ms per model input, all four models {:.0} ms (batch {BATCH})",
        blocks.len(),
        t_features * 1e3,
        t_models * 1e3
    );
    for batch in [1usize, 8, 64] {
        let some = FeatureBlocks {
            data: blocks.data[..batch * BLOCK_LEN].to_vec(),
            ..Default::default()
        };
        let mut line = format!("{label}: per block at batch {batch:>2}:");
        for task in Stage::ALL {
            if let Some(m) = models.get(task) {
                let runs = if batch == 1 { 50 } else { 5 };
                let t = best_of(runs, || m.predict(&some, batch).unwrap());
                line.push_str(&format!(
                    " {} {:.2} ms",
                    task.model_name(),
                    t * 1e3 / batch as f64
                ));
            }
        }
        println!("{line}");
    }
}

pub fn main() {
    if std::env::args().any(|a| a == CHILD) {
        figures("ONNX Runtime");
        return;
    }
    let library = take_onnxruntime_library();
    figures("tract");
    rerun_on_onnxruntime(CHILD, library);
}
