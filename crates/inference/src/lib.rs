//! Model inference for every network the product runs: the backend (tract, or ONNX Runtime
//! when the user has its library) and where the models come from.

pub mod backend;
pub mod error;

pub use error::ModelError;
pub mod source;
