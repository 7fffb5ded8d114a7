//! What the assistant hears: the inputs as tracks, their spectra and mel bands, the tempo, the
//! sibilance, which frames are sung (the gate), and how the balance moves.

pub mod balance_spread;
pub mod gate;
pub(crate) mod inputs;
pub mod mel;
pub mod sibilance;
pub mod spectrum;
pub mod tempo;
pub mod track;
