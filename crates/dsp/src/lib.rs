//! Everything that makes sound, and the meters that measure it: the chain's stages, smoothing,
//! K-weighting and loudness meters, the parameter table. Free of any plug-in framework and of
//! I/O; the plug-in and the CLI both drive [`VocalChain`].

pub mod biquad;
pub mod chain;
pub mod compressor;
#[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
pub mod cpu;
pub mod de_esser;
pub mod denormal;
pub mod eq;
pub mod fast_math;
pub mod fdn_reverb;
pub mod gain;
pub mod loudness;
pub mod loudness_match;
pub mod params;
pub mod processor;
pub mod smoother;
pub mod synth;
#[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
pub mod transpose;
pub mod vocal_ride;

pub use chain::{ChainError, VocalChain};
pub use processor::{Block, Change, Channels, Processor};
