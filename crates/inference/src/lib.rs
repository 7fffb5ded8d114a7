//! Model inference for every network the product runs: the backend (tract, or ONNX Runtime
//! when the user has its library) and where the models come from.

#![warn(clippy::too_many_lines)]

pub mod backend;
pub mod source;
