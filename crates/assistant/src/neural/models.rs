//! The CNN assistant's models (Li & Lerch, §III-C): loading, checking and running them.
//!
//! The four models trained by `training/` ship inside the binary with their `models.json`; a
//! folder with a `models.json` of its own ([`MODELS_ENV`], else [`user_models_folder`]) replaces
//! them. Each model is checked when it loads — it must parse, take (batch, 2, 128, 64) and give
//! the number of outputs its entry lists, finite — and a model that fails is left out with a
//! warning, so its stage keeps the rules. Loading also runs each model once (the warm-up), so
//! nothing is compiled during an analysis.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;

use ort::session::Session;
use ort::value::Tensor;
use serde::Deserialize;

use crate::cnn_features::{BLOCK_FRAMES, BLOCK_LEN, FeatureBlocks};
use crate::mel::MELS;
use automix_dsp::params::Stage;
use automix_inference::ModelError;
use automix_inference::backend::{self, Backend, BackendKind};

/// How far past its training range (a share of the range) an output may stray before the
/// prediction is treated as outside what the model learnt.
pub const OUTSIDE_MARGIN: f32 = 0.02;

/// The first of `values` outside its output's range by more than [`OUTSIDE_MARGIN`] of it.
pub fn outside_training<'a>(
    outputs: &'a [OutputSpec],
    values: &[f32],
) -> Option<(&'a OutputSpec, f32)> {
    outputs.iter().zip(values).find_map(|(o, &v)| {
        let margin = OUTSIDE_MARGIN * (o.max - o.min);
        (v < o.min - margin || v > o.max + margin || !v.is_finite()).then_some((o, v))
    })
}

/// Blocks per inference call: one is fastest per block on both backends here (`cargo bench -p
/// engine --bench cnn_inference`: tract 0.60 ms at 1, 0.81 at 64; ONNX Runtime 0.16 and 0.19).
pub const BATCH: usize = 1;

pub use automix_inference::source::{
    BUILT_IN_MANIFEST, MODELS_ENV, ModelSource, chosen_models_folder, user_models_folder,
};
const BUILT_IN: [(Stage, &[u8]); 4] = [
    (Stage::Eq, include_bytes!("../../../../models/eq.onnx")),
    (
        Stage::Compressor,
        include_bytes!("../../../../models/compression.onnx"),
    ),
    (
        Stage::Reverb,
        include_bytes!("../../../../models/reverb.onnx"),
    ),
    (
        Stage::Level,
        include_bytes!("../../../../models/level.onnx"),
    ),
];

/// A built-in model file by its name in `models.json` (`eq.onnx`, …: [`Stage::model_name`]).
pub fn built_in_model(file: &str) -> Option<&'static [u8]> {
    BUILT_IN
        .iter()
        .find(|(stage, _)| format!("{}.onnx", stage.model_name()) == file)
        .map(|(_, bytes)| *bytes)
}

#[derive(Clone, Debug, Deserialize)]
pub struct OutputSpec {
    pub name: String,
    pub min: f32,
    pub max: f32,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct HeldOut {
    #[serde(default)]
    pub examples: usize,
    pub mae_normalised: Option<f64>,
    pub mean_predictor_mae_normalised: Option<f64>,
    /// Per output (by name): the model's held-out mean absolute error, in the output's units…
    #[serde(default)]
    pub mae: BTreeMap<String, f64>,
    /// …and the dataset-mean predictor's on the same examples.
    #[serde(default)]
    pub mean_predictor_mae: BTreeMap<String, f64>,
}

#[derive(Clone, Debug, Deserialize)]
struct Entry {
    file: String,
    outputs: Vec<OutputSpec>,
    #[serde(default)]
    held_out: HeldOut,
}

#[derive(Debug, Deserialize)]
struct Manifest {
    format: String,
    version: u32,
    models: BTreeMap<String, Entry>,
}

pub struct Model {
    pub stage: Stage,
    pub outputs: Vec<OutputSpec>,
    pub held_out: HeldOut,
    session: Mutex<Session>,
}

impl Model {
    /// Whether the model beat the dataset-mean predictor on held-out songs (the research's
    /// baseline, and what the rules use for every stage but the EQ and the reverb time): Auto
    /// lets the CNN decide this stage only then.
    pub fn beats_mean(&self) -> bool {
        match (
            self.held_out.mae_normalised,
            self.held_out.mean_predictor_mae_normalised,
        ) {
            (Some(m), Some(b)) => self.held_out.examples > 0 && m < b,
            _ => false,
        }
    }

    /// Whether the model has held-out figures at all (a model trained on too few songs has none).
    pub fn validated(&self) -> bool {
        self.held_out.examples > 0 && self.held_out.mae_normalised.is_some()
    }

    /// Per output: whether the model's held-out error beat the dataset mean's on it. Only those
    /// outputs are trusted to move a setting away from the rules'.
    pub fn trusted_outputs(&self) -> Vec<bool> {
        self.outputs
            .iter()
            .map(|o| {
                match (
                    self.held_out.mae.get(&o.name),
                    self.held_out.mean_predictor_mae.get(&o.name),
                ) {
                    (Some(m), Some(b)) => self.validated() && m < b,
                    _ => false,
                }
            })
            .collect()
    }

    /// The held-out error of output `i`, in its units (`None` without figures).
    pub fn output_error(&self, i: usize) -> Option<f64> {
        self.outputs
            .get(i)
            .and_then(|o| self.held_out.mae.get(&o.name))
            .copied()
    }

    /// Why Auto does or does not use this model, for the suggestion.
    pub fn auto_reason(&self) -> String {
        match (
            self.held_out.mae_normalised,
            self.held_out.mean_predictor_mae_normalised,
        ) {
            (Some(m), Some(b)) if self.held_out.examples > 0 => format!(
                "held-out error {m:.3} against the dataset mean's {b:.3} (shares of each output's range)"
            ),
            _ => "no held-out figures (too few songs to hold any out)".into(),
        }
    }

    /// Runs the model on `blocks` (in batches of up to `batch`) and returns each output, in its
    /// units, averaged over the blocks. `None` for no blocks. A value may lie outside the
    /// output's range (the range its training targets covered): see [`Self::outside_training`].
    pub fn predict(
        &self,
        blocks: &FeatureBlocks,
        batch: usize,
    ) -> Result<Option<Vec<f32>>, ModelError> {
        let n = blocks.len();
        if n == 0 {
            return Ok(None);
        }
        let mut sum = vec![0.0f64; self.outputs.len()];
        for start in (0..n).step_by(batch.max(1)) {
            let count = batch.max(1).min(n - start);
            let data = blocks.data[start * BLOCK_LEN..(start + count) * BLOCK_LEN].to_vec();
            let y = self.run(count, data)?;
            for row in y.chunks_exact(self.outputs.len()) {
                for (s, v) in sum.iter_mut().zip(row) {
                    *s += *v as f64;
                }
            }
        }
        Ok(Some(
            sum.iter()
                .zip(&self.outputs)
                .map(|(s, o)| o.min + (o.max - o.min) * (*s / n as f64) as f32)
                .collect(),
        ))
    }

    /// The first output of `values` that lies outside the range the model's training targets
    /// covered (by more than [`OUTSIDE_MARGIN`] of it), with its range. A network's output there
    /// is an extrapolation nothing has checked.
    pub fn outside_training(&self, values: &[f32]) -> Option<(&OutputSpec, f32)> {
        outside_training(&self.outputs, values)
    }

    /// Raw (normalised) outputs for `count` blocks, `count × outputs` values.
    pub fn run(&self, count: usize, data: Vec<f32>) -> Result<Vec<f32>, ModelError> {
        let what = self.stage.label();
        let input = Tensor::from_array(([count, 2, MELS, BLOCK_FRAMES], data))
            .map_err(|e| ModelError::Run(format!("the {what} model's input: {e}")))?;
        let mut session = self.session.lock().unwrap_or_else(|p| p.into_inner());
        let outputs = session
            .run(ort::inputs![input])
            .map_err(|e| ModelError::Run(format!("the {what} model failed: {e}")))?;
        let (shape, values) = outputs[0]
            .try_extract_tensor::<f32>()
            .map_err(|e| ModelError::Run(format!("the {what} model's output: {e}")))?;
        let want = [count as i64, self.outputs.len() as i64];
        if shape.as_ref() != want || values.len() != count * self.outputs.len() {
            return Err(ModelError::Run(format!(
                "the {what} model gave outputs of shape {shape:?}, its models.json says {want:?}"
            )));
        }
        if values.iter().any(|v| !v.is_finite()) {
            return Err(ModelError::Run(format!(
                "the {what} model gave NaN or infinity"
            )));
        }
        Ok(values.to_vec())
    }
}

/// The loaded models: those that passed their checks, and why the others did not.
pub struct CnnModels {
    pub source: ModelSource,
    pub backend: &'static str,
    pub backend_kind: BackendKind,
    models: Vec<Model>,
    /// Problems found while loading (a missing or broken model, an unusable ONNX Runtime).
    pub warnings: Vec<String>,
}

impl CnnModels {
    pub fn get(&self, stage: Stage) -> Option<&Model> {
        self.models.iter().find(|m| m.stage == stage)
    }

    /// [`CnnModels::load`], once per process: plug-in instances and batch jobs share the
    /// sessions (each model runs one call at a time).
    pub fn shared() -> &'static CnnModels {
        static SHARED: std::sync::OnceLock<CnnModels> = std::sync::OnceLock::new();
        SHARED.get_or_init(CnnModels::load)
    }

    /// The user's models when [`MODELS_ENV`] or [`user_models_folder`] holds a `models.json`,
    /// otherwise the built-in ones. Never fails: what cannot be used is in `warnings` (an empty
    /// set of models leaves every stage to the rules).
    pub fn load() -> CnnModels {
        match chosen_models_folder() {
            Some(dir) => Self::from_folder(&dir),
            None => Self::built_in(),
        }
    }

    pub fn built_in() -> CnnModels {
        Self::assemble(
            ModelSource::BuiltIn,
            Ok(BUILT_IN_MANIFEST.to_string()),
            &|file| {
                built_in_model(file)
                    .map(<[u8]>::to_vec)
                    .ok_or_else(|| ModelError::NotBuiltIn { file: file.into() })
            },
        )
    }

    /// The models a `models.json` in `dir` lists, its files beside it.
    pub fn from_folder(dir: &Path) -> CnnModels {
        let manifest =
            std::fs::read_to_string(dir.join("models.json")).map_err(|e| ModelError::Unreadable {
                path: dir.join("models.json"),
                why: e.to_string(),
            });
        Self::assemble(ModelSource::Folder(dir.to_path_buf()), manifest, &|file| {
            std::fs::read(dir.join(file)).map_err(|e| ModelError::Unreadable {
                path: dir.join(file),
                why: e.to_string(),
            })
        })
    }

    fn assemble(
        source: ModelSource,
        manifest: Result<String, ModelError>,
        read: &dyn Fn(&str) -> Result<Vec<u8>, ModelError>,
    ) -> CnnModels {
        let mut out = CnnModels {
            source: source.clone(),
            backend: "none",
            backend_kind: BackendKind::Tract,
            models: Vec::new(),
            warnings: Vec::new(),
        };
        let backend = match backend::backend() {
            Ok(b) => b,
            Err(e) => {
                out.warnings
                    .push(format!("{e}: every stage uses the rules"));
                return out;
            }
        };
        out.backend = &backend.description;
        out.backend_kind = backend.kind;
        if let Some(w) = &backend.warning {
            out.warnings.push(w.clone());
        }
        let manifest = match manifest.and_then(|text| parse_manifest(&text)) {
            Ok(m) => m,
            Err(e) => {
                out.warnings.push(format!(
                    "the CNN models ({source}) cannot be used: {e}; every stage uses the rules"
                ));
                return out;
            }
        };
        for stage in Stage::ALL {
            let Some(entry) = manifest.models.get(stage.model_name()) else {
                out.warnings.push(format!(
                    "models.json ({source}) has no {} model: that stage uses the rules",
                    stage.label()
                ));
                continue;
            };
            match read(&entry.file).and_then(|bytes| open(backend, stage, entry, &bytes)) {
                Ok(m) => out.models.push(m),
                Err(e) => out.warnings.push(format!(
                    "the {} model ({source}) cannot be used: {e}; that stage uses the rules",
                    stage.label()
                )),
            }
        }
        out
    }
}

fn parse_manifest(text: &str) -> Result<Manifest, ModelError> {
    let m: Manifest = serde_json::from_str(text)
        .map_err(|e| ModelError::Manifest(format!("models.json is not readable ({e})")))?;
    if m.format != "vocal-automix/models" {
        return Err(ModelError::Manifest(format!(
            "models.json has format `{}`",
            m.format
        )));
    }
    if m.version != 1 {
        return Err(ModelError::Manifest(format!(
            "models.json is version {}, this Vocal Automix reads version 1",
            m.version
        )));
    }
    Ok(m)
}

/// A session for one model, checked and warmed up.
fn open(backend: &Backend, stage: Stage, entry: &Entry, bytes: &[u8]) -> Result<Model, ModelError> {
    if entry.outputs.is_empty()
        || entry
            .outputs
            .iter()
            .any(|o| !(o.min.is_finite() && o.max.is_finite() && o.max > o.min))
    {
        return Err(ModelError::Manifest(
            "its outputs in models.json have no usable ranges".into(),
        ));
    }
    let session = backend::session(backend, bytes)?;
    let model = Model {
        stage,
        outputs: entry.outputs.clone(),
        held_out: entry.held_out.clone(),
        session: Mutex::new(session),
    };
    // the warm-up doubles as the shape check: one block of zeros
    model.run(1, vec![0.0; BLOCK_LEN])?;
    Ok(model)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prediction_past_its_training_range_is_found_and_one_inside_the_margin_is_not() {
        let outputs = vec![
            OutputSpec {
                name: "a".into(),
                min: 0.0,
                max: 10.0,
            },
            OutputSpec {
                name: "b".into(),
                min: -5.0,
                max: 5.0,
            },
        ];
        assert!(outside_training(&outputs, &[10.1, 0.0]).is_none());
        assert!(outside_training(&outputs, &[-0.1, 5.1]).is_none());
        let (o, v) = outside_training(&outputs, &[3.0, -5.5]).unwrap();
        assert_eq!((o.name.as_str(), v), ("b", -5.5));
        assert_eq!(
            outside_training(&outputs, &[10.5, 0.0]).unwrap().0.name,
            "a"
        );
        assert!(outside_training(&outputs, &[f32::NAN, 0.0]).is_some());
    }
}
