//! `automix models`: which CNN models the assistant would use, their held-out figures, and the
//! backend that runs them; `--predict` runs one model on saved feature blocks (the format
//! `automix dataset` writes), for checking the Rust inference against ONNX Runtime in Python.

use std::path::{Path, PathBuf};

use engine::analysis::cnn::{BATCH, CnnModels};
use engine::analysis::cnn_features::BLOCK_LEN;
use engine::params::Stage;

use crate::cli_args::ModelChoice;

/// `automix models`: the CNN models the assistant would use (built in, or a folder of retrained
/// ones), their held-out figures and the backend that runs them.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// A folder with models.json and its .onnx files (default: $VOCAL_AUTOMIX_MODELS, the
    /// user folder, or the built-in models)
    #[arg(long)]
    pub folder: Option<PathBuf>,
    /// Run one model on feature blocks saved as `automix dataset` saves them, and write its raw
    /// outputs (float32) to --out
    #[arg(long, value_enum, requires_all = ["features", "out"])]
    pub predict: Option<ModelChoice>,
    /// The feature blocks for --predict
    #[arg(long, requires = "predict")]
    pub features: Option<PathBuf>,
    /// Where --predict writes the outputs
    #[arg(long, requires = "predict")]
    pub out: Option<PathBuf>,
}

impl Args {
    pub fn run(self, say: &mut dyn FnMut(String)) -> Result<(), String> {
        let predict = match (self.predict, self.features, self.out) {
            (Some(model), Some(features), Some(out)) => Some((model.0, features, out)),
            (None, None, None) => None,
            _ => return Err("--predict needs --features and --out, and they need it".into()),
        };
        run(
            &ModelsJob {
                folder: self.folder,
                predict,
            },
            say,
        )
    }
}

pub struct ModelsJob {
    /// A folder of models instead of the ones the assistant would pick.
    pub folder: Option<PathBuf>,
    /// (model, features file, output file): raw outputs of one model, examples × outputs, f32 LE.
    pub predict: Option<(Stage, PathBuf, PathBuf)>,
}

pub fn run(job: &ModelsJob, say: &mut dyn FnMut(String)) -> Result<(), String> {
    let models = match &job.folder {
        Some(dir) => CnnModels::from_folder(dir),
        None => CnnModels::load(),
    };
    if let Some((stage, features, out)) = &job.predict {
        crate::same_file::check(
            &[crate::same_file::Named::new(
                "the features (--features)",
                features,
            )],
            &[crate::same_file::Named::new("the outputs (--out)", out)],
        )?;
        return predict(&models, *stage, features, out);
    }
    println!("models: {}", models.source);
    println!("backend: {}", models.backend);
    for stage in Stage::ALL {
        match models.get(stage) {
            Some(m) => println!(
                "{:<12} {} outputs; {}; Auto uses {}",
                stage.model_name(),
                m.outputs.len(),
                m.auto_reason(),
                if m.beats_mean() {
                    "the CNN"
                } else {
                    "the rules"
                }
            ),
            None => println!("{:<12} not usable: the rules decide", stage.model_name()),
        }
    }
    for w in &models.warnings {
        say(format!("warning: {w}"));
    }
    Ok(())
}

fn predict(models: &CnnModels, stage: Stage, features: &Path, out: &Path) -> Result<(), String> {
    let model = models.get(stage).ok_or_else(|| {
        format!(
            "the {} model is not usable: {}",
            stage.label(),
            models.warnings.join("; ")
        )
    })?;
    let bytes = std::fs::read(features).map_err(|e| format!("{}: {e}", features.display()))?;
    if bytes.len() % (4 * BLOCK_LEN) != 0 {
        return Err(format!(
            "{}: not whole feature blocks of 2 × 128 × 64 float32 values",
            features.display()
        ));
    }
    let values: Vec<f32> = bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    let mut raw = Vec::new();
    for chunk in values.chunks(BATCH * BLOCK_LEN) {
        raw.extend(model.run(chunk.len() / BLOCK_LEN, chunk.to_vec())?);
    }
    let bytes: Vec<u8> = raw.iter().flat_map(|v| v.to_le_bytes()).collect();
    std::fs::write(out, bytes).map_err(|e| format!("{}: {e}", out.display()))
}
