//! What the assistant aims at: the vocal's level against the backing and the vocal's tone. The
//! built-in targets come from professional mixes; a caller may give others (the evaluation fits
//! them on some songs and scores them on another).

use super::level_balance::TARGET_BELOW_BACKING_LU;
use super::tone_eq::ToneTarget;

#[derive(Clone, Debug, PartialEq)]
pub struct Targets {
    /// How far under the backing's integrated loudness the processed vocal is put, LU.
    pub below_backing_lu: f64,
    /// The tone the EQ moves the vocal toward; `None` leaves the tone to the masking rule alone.
    pub tone: Option<ToneTarget>,
}

/// The built-in tone target: the mean octave-band balance of the five professionally mixed
/// vocal stems in `../shared/audio` (`musdb-excerpts`, `musdb-preview`), each band relative to
/// the vocal's integrated loudness as the analysis measures it, and their spread. Printed by `automix eval --fit-targets ../shared/audio/musdb-excerpts
/// ../shared/audio/musdb-preview`; see docs/assistant.md.
pub const TONE_RELATIVE_DB: [f64; 9] = [
    -51.61, -31.02, -9.95, -4.99, -5.3, -10.3, -16.75, -18.66, -27.63,
];
pub const TONE_SPREAD_DB: [f64; 9] = [13.68, 8.62, 4.18, 2.79, 0.65, 2.46, 5.09, 3.23, 3.89];
pub const TONE_SOURCE: &str = "the mean of 5 professionally mixed vocals";

impl Targets {
    pub fn built_in() -> Targets {
        Targets {
            below_backing_lu: TARGET_BELOW_BACKING_LU,
            tone: Some(ToneTarget {
                relative_db: TONE_RELATIVE_DB,
                spread_db: TONE_SPREAD_DB,
                source: TONE_SOURCE.into(),
            }),
        }
    }
}

impl Default for Targets {
    fn default() -> Self {
        Targets::built_in()
    }
}
