//! Which ONNX implementation runs the CNNs. `ort` is used with its `alternative-backend` feature,
//! so its API is served either by tract (pure Rust, built in, always there) or by ONNX Runtime's
//! own library when the user points [`ONNXRUNTIME_ENV`] at it (faster). `ort` keeps one API
//! pointer for the whole process, so the choice is made once, on first use, together with the
//! process's one `ort` environment.

use std::ffi::{CStr, OsString};
use std::sync::OnceLock;

use ort::environment::Environment;
use ort::session::Session;
use ort::session::builder::GraphOptimizationLevel;

use crate::error::ModelError;

/// Path of an ONNX Runtime shared library (1.24 or newer) to run the CNNs with instead of tract.
pub const ONNXRUNTIME_ENV: &str = "VOCAL_AUTOMIX_ONNXRUNTIME";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BackendKind {
    Tract,
    OnnxRuntime,
}

pub struct Backend {
    pub kind: BackendKind,
    /// For reports: "tract (built in)", "ONNX Runtime 1.32.0 (/path/libonnxruntime.so)".
    pub description: String,
    /// Why ONNX Runtime was asked for and not used, when it was.
    pub warning: Option<String>,
    pub(crate) environment: Environment,
}

static BACKEND: OnceLock<Result<Backend, ModelError>> = OnceLock::new();

/// The process's backend, chosen on the first call.
pub fn backend() -> Result<&'static Backend, ModelError> {
    BACKEND
        .get_or_init(|| choose(std::env::var_os(ONNXRUNTIME_ENV).filter(|p| !p.is_empty())))
        .as_ref()
        .map_err(Clone::clone)
}

fn choose(onnxruntime: Option<OsString>) -> Result<Backend, ModelError> {
    let (api, kind, description, warning) = match onnxruntime {
        None => (ort_tract::api(), BackendKind::Tract, tract(), None),
        Some(path) => match load_onnxruntime(&path) {
            Ok((api, version)) => (
                api,
                BackendKind::OnnxRuntime,
                format!("ONNX Runtime {version} ({})", path.to_string_lossy()),
                None,
            ),
            Err(e) => (
                ort_tract::api(),
                BackendKind::Tract,
                tract(),
                Some(format!("{e}: the CNNs run on the built-in tract backend")),
            ),
        },
    };
    // false only when something in this process set an API before us; it is then the one used
    ort::set_api(api);
    let environment = ort::init()
        .with_name("vocal-automix")
        .build()
        .map_err(|e| ModelError::Runtime(e.to_string()))?;
    Ok(Backend {
        kind,
        description,
        warning,
        environment,
    })
}

/// A session for one model's `bytes` on `backend`: what every model of the product (the mixing
/// CNNs, the separator, the VAD) is opened with.
pub fn session(backend: &Backend, bytes: &[u8]) -> Result<Session, ModelError> {
    Session::builder(&backend.environment)
        .and_then(|mut b| {
            // one thread: the analysis runs beside the audio thread on machines with few cores
            b = b.with_intra_threads(1)?;
            // ONNX Runtime enables every optimisation by default; ort-tract optimises only
            // when asked (its default runs the graph as parsed, several times slower)
            b = b.with_optimization_level(GraphOptimizationLevel::All)?;
            b.commit_from_memory(bytes)
        })
        .map_err(|e| ModelError::NotAModel(e.to_string()))
}

fn tract() -> String {
    "tract (built in)".into()
}

/// ONNX Runtime's C API from its shared library at `path`. The library stays loaded for the
/// life of the process (the API table points into it).
fn load_onnxruntime(path: &OsString) -> Result<(ort::sys::OrtApi, String), String> {
    let shown = path.to_string_lossy();
    // SAFETY: loading a library runs its initialisers; the user named this file as ONNX Runtime.
    // The symbol and the API table are used with the C API's documented signatures.
    unsafe {
        let lib = libloading::Library::new(path)
            .map_err(|e| format!("{ONNXRUNTIME_ENV}={shown} could not be loaded ({e})"))?;
        let get: libloading::Symbol<unsafe extern "system" fn() -> *const ort::sys::OrtApiBase> =
            lib.get(b"OrtGetApiBase\0").map_err(|_| {
                format!("{ONNXRUNTIME_ENV}={shown} is not ONNX Runtime (no OrtGetApiBase)")
            })?;
        let base = get();
        if base.is_null() {
            return Err(format!("{ONNXRUNTIME_ENV}={shown} gave no API"));
        }
        let version = CStr::from_ptr(((*base).GetVersionString)())
            .to_string_lossy()
            .into_owned();
        let api = ((*base).GetApi)(ort::sys::ORT_API_VERSION);
        if api.is_null() {
            return Err(format!(
                "ONNX Runtime {version} at {shown} is older than 1.{}, which Vocal Automix needs",
                ort::sys::ORT_API_VERSION
            ));
        }
        let api = (*api).clone();
        std::mem::forget(lib);
        Ok((api, version))
    }
}
