//! `automix models`: which CNN models the assistant would use, their held-out figures, and the
//! backend that runs them; `--predict` runs one model on saved feature blocks (the format
//! `automix dataset` writes), for checking the Rust inference against ONNX Runtime in Python.

use std::path::{Path, PathBuf};

use engine::analysis::cnn::{BATCH, CnnModels};
use engine::analysis::cnn_features::BLOCK_LEN;
use engine::params::Stage;
use engine::separation::SeparationModels;
use engine::separation::frames::{BINS, PATCH, VAD_BINS};

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
    /// Where --predict or --run-separation writes the outputs
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Run the separator (on patches of 2 × 512 × 128 float32 values) or the VAD (on one
    /// 513 × frames block of power spectra) from --input, and write its raw outputs to --out
    #[arg(long, value_enum, requires_all = ["input", "out"], conflicts_with = "predict")]
    pub run_separation: Option<SeparationModel>,
    /// The input for --run-separation (float32, little-endian)
    #[arg(long, requires = "run_separation")]
    pub input: Option<PathBuf>,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum SeparationModel {
    Separator,
    Vad,
}

impl Args {
    pub fn run(self, say: &mut dyn FnMut(String)) -> Result<(), String> {
        if let (Some(which), Some(input), Some(out)) = (self.run_separation, &self.input, &self.out)
        {
            let models = match &self.folder {
                Some(dir) => SeparationModels::from_folder(dir),
                None => SeparationModels::load(),
            };
            crate::same_file::check(
                &[crate::same_file::Named::new("the input (--input)", input)],
                &[crate::same_file::Named::new("the outputs (--out)", out)],
            )?;
            return run_separation(&models, which, input, out);
        }
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
    let sep = match &job.folder {
        Some(dir) => SeparationModels::from_folder(dir),
        None => SeparationModels::load(),
    };
    let figure = |v: &serde_json::Value, k: &str| v.get(k).and_then(|x| x.as_f64());
    match &sep.separator {
        Some(m) => println!(
            "{:<12} {}{}; MIR-1K test GNSDR {} dB",
            "separator",
            m.architecture,
            if m.informed {
                ", informed by the VAD"
            } else {
                ""
            },
            figure(&m.held_out, "gnsdr_db").map_or("?".into(), |v| format!("{v:.2}"))
        ),
        None => println!("{:<12} not usable: `automix separate` refuses", "separator"),
    }
    match &sep.vad {
        Some(m) => println!(
            "{:<12} threshold {}; MIR-1K test accuracy {}",
            "vad",
            m.threshold,
            figure(&m.held_out, "accuracy").map_or("?".into(), |v| format!("{:.1} %", 100.0 * v))
        ),
        None => println!("{:<12} not usable: `automix vad` refuses", "vad"),
    }
    for w in &sep.warnings {
        say(format!("warning: {w}"));
    }
    Ok(())
}

fn read_f32(path: &Path) -> Result<Vec<f32>, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if bytes.len() % 4 != 0 {
        return Err(format!("{}: not float32 values", path.display()));
    }
    Ok(bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect())
}

fn run_separation(
    models: &SeparationModels,
    which: SeparationModel,
    input: &Path,
    out: &Path,
) -> Result<(), String> {
    let values = read_f32(input)?;
    let why = || models.warnings.join("; ");
    let raw = match which {
        SeparationModel::Separator => {
            let model = models
                .separator
                .as_ref()
                .ok_or_else(|| format!("the separator is not usable: {}", why()))?;
            let len = 2 * BINS * PATCH;
            if values.is_empty() || values.len() % len != 0 {
                return Err(format!(
                    "{}: not whole patches of 2 × 512 × 128 values",
                    input.display()
                ));
            }
            model.run(values.len() / len, values)?
        }
        SeparationModel::Vad => {
            let model = models
                .vad
                .as_ref()
                .ok_or_else(|| format!("the VAD is not usable: {}", why()))?;
            if values.is_empty() || values.len() % VAD_BINS != 0 {
                return Err(format!("{}: not 513 × frames values", input.display()));
            }
            model.run(values.len() / VAD_BINS, values)?
        }
    };
    let bytes: Vec<u8> = raw.iter().flat_map(|v| v.to_le_bytes()).collect();
    std::fs::write(out, bytes).map_err(|e| format!("{}: {e}", out.display()))
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
