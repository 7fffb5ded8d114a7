//! What can go wrong with a model, for every network the product runs (the mixing CNNs, the
//! separator, the VAD). The text is what the user reads, after "the separator (…) cannot be
//! used: " or the like.

use std::fmt;
use std::path::PathBuf;

#[derive(Debug, Clone, PartialEq)]
pub enum ModelError {
    /// The inference runtime (tract, or ONNX Runtime's library) did not start.
    Runtime(String),
    /// A model file or the manifest could not be read.
    Unreadable { path: PathBuf, why: String },
    /// A manifest names a file the built-in set does not hold.
    NotBuiltIn { file: String },
    /// The manifest is not JSON, or an entry is missing or malformed.
    Manifest(String),
    /// The bytes are not an ONNX model the runtime can open.
    NotAModel(String),
    /// Running it failed, or it answered the wrong shape or values outside its range: a broken
    /// or mismatched model.
    Run(String),
}

impl fmt::Display for ModelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ModelError::Runtime(why) => write!(f, "the CNN runtime did not start: {why}"),
            ModelError::Unreadable { path, why } => write!(f, "{}: {why}", path.display()),
            ModelError::NotBuiltIn { file } => write!(f, "{file} is not built in"),
            ModelError::Manifest(why) | ModelError::Run(why) => write!(f, "{why}"),
            ModelError::NotAModel(why) => write!(f, "not a usable ONNX model ({why})"),
        }
    }
}

impl std::error::Error for ModelError {}

impl From<ModelError> for String {
    fn from(e: ModelError) -> String {
        e.to_string()
    }
}
