//! The separator and the VAD as ONNX models: built in with their entry (`separation`) in
//! `models/models.json`, or a retrained pair in the user's models folder (the one the mixing
//! CNNs use, [`automix_inference::source::MODELS_ENV`]). Each is checked when it loads — it must parse,
//! take its input shape and answer finite values in [0, 1] — and one that fails is left out with a
//! warning: separation refuses with a message, and the activity falls back as its callers say.

use std::path::Path;
use std::sync::{Mutex, OnceLock};

use ort::session::Session;
use ort::value::Tensor;
use serde::Deserialize;

use super::frames::{BINS, PATCH, VAD_BINS};
use automix_inference::ModelError;
use automix_inference::backend::{self, BackendKind};
use automix_inference::source::{BUILT_IN_MANIFEST, ModelSource, chosen_models_folder};

const BUILT_IN_SEPARATOR: &[u8] = include_bytes!("../../../models/separator.onnx");
const BUILT_IN_VAD: &[u8] = include_bytes!("../../../models/vad.onnx");

/// What identifies the built-in separator and VAD (a hash of both files): measures a cache kept
/// from other models are measured again.
pub fn built_in_identity() -> &'static str {
    static ID: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    ID.get_or_init(|| {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        BUILT_IN_SEPARATOR.hash(&mut h);
        BUILT_IN_VAD.hash(&mut h);
        format!("{:016x}", h.finish())
    })
}
/// Separator patches per inference call.
pub const SEPARATOR_BATCH: usize = 4;
/// The elements of one separator patch: (2, 512, 128).
pub const PATCH_LEN: usize = 2 * BINS * PATCH;

#[derive(Debug, Deserialize)]
struct Section {
    separator: Option<SeparatorEntry>,
    vad: Option<VadEntry>,
}

#[derive(Debug, Deserialize)]
struct SeparatorEntry {
    file: String,
    informed: bool,
    #[serde(default)]
    architecture: String,
    #[serde(default)]
    held_out: serde_json::Value,
}

#[derive(Debug, Deserialize)]
struct VadEntry {
    file: String,
    threshold: f32,
    /// Frames either side that one frame's answer depends on; seed 004's network sees ±20.
    #[serde(default = "seed_context")]
    context_frames: usize,
    /// The threshold for a vocal track (the analysis gate) rather than a mixture; absent: the
    /// mixture's.
    #[serde(default)]
    gate_threshold: Option<f32>,
    #[serde(default)]
    held_out: serde_json::Value,
}

pub struct SeparatorModel {
    /// Whether the network takes each frame's vocal activity (seed 004) as its second channel.
    pub informed: bool,
    pub architecture: String,
    /// Its figures on MIR-1K's test split, as `models.json` gives them.
    pub held_out: serde_json::Value,
    session: Mutex<Session>,
}

fn seed_context() -> usize {
    20
}

/// More context than this (4 s either side) is a broken manifest, not a model.
const MAX_VAD_CONTEXT: usize = 200;

pub struct VadModel {
    /// Probability from which a frame of a mixture counts as vocal.
    pub threshold: f32,
    /// The same for a vocal track on its own, as the analysis gate hears it (dry, perhaps with
    /// the backing bleeding in): chosen on such vocals, where a network that learnt mixtures is
    /// too eager.
    pub gate_threshold: f32,
    /// Frames either side each frame's probability depends on (its receptive field's half).
    pub context: usize,
    pub held_out: serde_json::Value,
    session: Mutex<Session>,
}

fn run(
    session: &Mutex<Session>,
    what: &str,
    shape: [usize; 4],
    data: Vec<f32>,
    want: usize,
) -> Result<Vec<f32>, ModelError> {
    let input = Tensor::from_array((shape, data))
        .map_err(|e| ModelError::Run(format!("the {what}'s input: {e}")))?;
    let mut session = session.lock().unwrap_or_else(|p| p.into_inner());
    let outputs = session
        .run(ort::inputs![input])
        .map_err(|e| ModelError::Run(format!("the {what} failed: {e}")))?;
    let (_, values) = outputs[0]
        .try_extract_tensor::<f32>()
        .map_err(|e| ModelError::Run(format!("the {what}'s output: {e}")))?;
    if values.len() != want {
        return Err(ModelError::Run(format!(
            "the {what} gave {} values where {want} were expected",
            values.len()
        )));
    }
    // a sigmoid's output: anything else is a broken model
    if values.iter().any(|v| !(0.0..=1.0).contains(v)) {
        return Err(ModelError::Run(format!(
            "the {what} gave values outside [0, 1] or NaN"
        )));
    }
    Ok(values.to_vec())
}

impl SeparatorModel {
    /// Vocal masks for `count` patches of (2, 512, 128): count × 512 × 128 values in [0, 1].
    pub fn run(&self, count: usize, patches: Vec<f32>) -> Result<Vec<f32>, ModelError> {
        run(
            &self.session,
            "separator",
            [count, 2, BINS, PATCH],
            patches,
            count * BINS * PATCH,
        )
    }
}

impl VadModel {
    /// Vocal probabilities of `frames` frames of power spectra (513 bins each, bin-major).
    pub fn run(&self, frames: usize, power: Vec<f32>) -> Result<Vec<f32>, ModelError> {
        run(
            &self.session,
            "VAD",
            [1, 1, VAD_BINS, frames],
            power,
            frames,
        )
    }
}

pub struct SeparationModels {
    pub source: ModelSource,
    pub backend: &'static str,
    pub backend_kind: BackendKind,
    pub separator: Option<SeparatorModel>,
    pub vad: Option<VadModel>,
    /// What could not be used, and what happens instead.
    pub warnings: Vec<String>,
}

impl SeparationModels {
    /// [`SeparationModels::load`], once per process.
    pub fn shared() -> &'static SeparationModels {
        static SHARED: OnceLock<SeparationModels> = OnceLock::new();
        SHARED.get_or_init(SeparationModels::load)
    }

    /// The user's folder (as for the mixing CNNs) when its `models.json` has a `separation`
    /// entry, otherwise the built-in models.
    pub fn load() -> SeparationModels {
        Self::load_with(true)
    }

    /// The VAD alone, once per process (the analysis's vocal gate): the separator is 22 MB of
    /// weights, and more once optimised, that a gate has no use for.
    pub fn shared_vad() -> &'static SeparationModels {
        static SHARED: OnceLock<SeparationModels> = OnceLock::new();
        SHARED.get_or_init(|| Self::load_with(false))
    }

    fn load_with(separator: bool) -> SeparationModels {
        match chosen_models_folder() {
            Some(dir) => Self::from_folder_with(&dir, separator),
            None => Self::built_in_with(separator),
        }
    }

    pub fn built_in() -> SeparationModels {
        Self::built_in_with(true)
    }

    fn built_in_with(separator: bool) -> SeparationModels {
        Self::assemble(
            separator,
            ModelSource::BuiltIn,
            Ok(BUILT_IN_MANIFEST.into()),
            &|file| match file {
                "separator.onnx" => Ok(BUILT_IN_SEPARATOR.to_vec()),
                "vad.onnx" => Ok(BUILT_IN_VAD.to_vec()),
                _ => Err(ModelError::NotBuiltIn { file: file.into() }),
            },
        )
    }

    /// The models a folder's `models.json` lists under `separation`; a folder without that
    /// entry (retrained mixing CNNs only) leaves separation to the built-in models.
    pub fn from_folder(dir: &Path) -> SeparationModels {
        Self::from_folder_with(dir, true)
    }

    fn from_folder_with(dir: &Path, separator: bool) -> SeparationModels {
        let manifest =
            std::fs::read_to_string(dir.join("models.json")).map_err(|e| ModelError::Unreadable {
                path: dir.join("models.json"),
                why: e.to_string(),
            });
        if let Ok(text) = &manifest {
            let has = serde_json::from_str::<serde_json::Value>(text)
                .is_ok_and(|v| v.get("separation").is_some());
            if !has {
                let mut built_in = Self::built_in_with(separator);
                built_in.warnings.insert(
                    0,
                    format!(
                        "{} has no `separation` entry: the built-in separator and VAD are used",
                        dir.join("models.json").display()
                    ),
                );
                return built_in;
            }
        }
        Self::assemble(
            separator,
            ModelSource::Folder(dir.to_path_buf()),
            manifest,
            &|file| {
                std::fs::read(dir.join(file)).map_err(|e| ModelError::Unreadable {
                    path: dir.join(file),
                    why: e.to_string(),
                })
            },
        )
    }

    /// `want_separator`: false loads the VAD alone (the separator stays `None`, unmentioned).
    fn assemble(
        want_separator: bool,
        source: ModelSource,
        manifest: Result<String, ModelError>,
        read: &dyn Fn(&str) -> Result<Vec<u8>, ModelError>,
    ) -> SeparationModels {
        let mut out = SeparationModels {
            source: source.clone(),
            backend: "none",
            backend_kind: BackendKind::Tract,
            separator: None,
            vad: None,
            warnings: Vec::new(),
        };
        let backend = match backend::backend() {
            Ok(b) => b,
            Err(e) => {
                out.warnings.push(format!("{e}: no separation or VAD"));
                return out;
            }
        };
        out.backend = &backend.description;
        out.backend_kind = backend.kind;
        let section = manifest.and_then(|text| {
            let v: serde_json::Value = serde_json::from_str(&text)
                .map_err(|e| ModelError::Manifest(format!("models.json is not readable ({e})")))?;
            let s = v.get("separation").ok_or(ModelError::Manifest(
                "models.json has no `separation` entry".into(),
            ))?;
            Section::deserialize(s)
                .map_err(|e| ModelError::Manifest(format!("its `separation` entry: {e}")))
        });
        let section = match section {
            Ok(s) => s,
            Err(e) => {
                out.warnings.push(format!(
                    "the separation models ({source}) cannot be used: {e}"
                ));
                return out;
            }
        };
        let separator = section.separator.filter(|_| want_separator).map(|entry| {
            let session = read(&entry.file).and_then(|b| backend::session(backend, &b))?;
            let model = SeparatorModel {
                informed: entry.informed,
                architecture: entry.architecture,
                held_out: entry.held_out,
                session: Mutex::new(session),
            };
            // the warm-up doubles as the shape and range check
            model.run(1, vec![0.0; PATCH_LEN]).map(|_| model)
        });
        let vad = section.vad.map(|entry| {
            if entry.context_frames > MAX_VAD_CONTEXT {
                return Err(ModelError::Manifest(format!(
                    "the VAD's context_frames is {}, more than {MAX_VAD_CONTEXT}",
                    entry.context_frames
                )));
            }
            let session = read(&entry.file).and_then(|b| backend::session(backend, &b))?;
            let model = VadModel {
                threshold: entry.threshold.clamp(0.0, 1.0),
                gate_threshold: entry
                    .gate_threshold
                    .unwrap_or(entry.threshold)
                    .clamp(0.0, 1.0),
                context: entry.context_frames,
                held_out: entry.held_out,
                session: Mutex::new(session),
            };
            model.run(64, vec![0.0; VAD_BINS * 64]).map(|_| model)
        });
        if want_separator {
            out.separator = kept("separator", &source, separator, &mut out.warnings);
        }
        out.vad = kept("VAD", &source, vad, &mut out.warnings);
        out
    }
}

/// A model that loaded, or the warning that says why not (no entry, or a file that failed).
fn kept<T>(
    what: &str,
    source: &ModelSource,
    loaded: Option<Result<T, ModelError>>,
    warnings: &mut Vec<String>,
) -> Option<T> {
    match loaded {
        Some(Ok(model)) => Some(model),
        Some(Err(e)) => {
            warnings.push(format!("the {what} ({source}) cannot be used: {e}"));
            None
        }
        None => {
            warnings.push(format!("models.json ({source}) lists no {what}"));
            None
        }
    }
}
