//! Vocal Automix engine: the layers under one name, for the CLI and the plug-in. Each layer is
//! its own crate (`crates/`), so an arrow that runs the wrong way is a compile error:
//! `dsp` ← `audio-io`, `inference` ← `separation` ← `assistant` ← `evaluation`
//! (docs/architecture.md draws them).

pub use automix_assistant as analysis;
pub use automix_dsp as dsp;
pub use automix_dsp::{params, synth};
pub use automix_evaluation as evaluation;
pub use automix_inference as inference;
pub use automix_separation as separation;
pub use automix_separation::vad;

pub use automix_audio_io::resample;

/// Reading and writing audio files, and decoding straight into an analysis track.
pub mod audio_file {
    pub use automix_assistant::track::read_track;
    pub use automix_audio_io::audio_file::*;
}

pub use dsp::VocalChain;
pub use params::{MixParams, PARAMS, ParamId, ParamSpec};
