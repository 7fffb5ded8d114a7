//! Vocal Automix engine: the vocal chain and the parameter table, with no plug-in framework in it.

pub mod analysis;
pub mod audio_file;
pub mod dsp;
pub mod evaluation;
pub mod params;
pub mod resample;
pub mod separation;
pub mod synth;
pub mod vad;

pub use dsp::VocalChain;
pub use params::{MixParams, PARAMS, ParamId, ParamSpec};
