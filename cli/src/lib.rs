//! The `automix` command line as a library, so that its benchmarks and tests drive the very code
//! the binary runs. One module per subcommand, each owning its arguments (`Args`) and its work.

pub mod analyze;
/// Audio files are read and written by the engine (the plug-in reads its reference with it).
pub use engine::audio_file as audio_io;
pub mod batch;
pub mod cli_args;
pub mod dataset;
pub mod demo;
pub mod eval;
pub mod gate_study;
pub mod jobs;
pub mod learn;
pub mod mix;
pub mod models;
pub mod param_file;
pub mod params;
pub mod progress;
pub mod reference;
pub mod reference_accuracy;
pub mod render;
pub mod same_file;
pub mod separate;
pub mod vad;
