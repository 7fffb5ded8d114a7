//! Whether the vocal needs riding, and the balance the ride holds.
//!
//! The static level puts the vocal's *integrated* loudness where the level decision wants it; the
//! ride is for a vocal whose balance against the backing moves phrase by phrase. The rule measures
//! that movement the way the ride is judged ([`crate::balance_spread`]): the spread of the 3 s
//! balance of the processed vocal (the compressor's output, before the reverb and the fader)
//! against the backing, over the sung windows. Above [`RIDE_ON_SPREAD_LU`] the ride is turned on.
//!
//! The ride holds the balance the level decision chose: its balance parameter is the processed
//! vocal's loudness minus the backing's, both as they play, before the fader; the fader then moves
//! the ridden vocal as a whole, so a user who moves it moves the balance the ride keeps.

use serde::{Deserialize, Serialize};

use crate::balance_spread::{balance, std_dev, sung_windows};

/// Turn the ride on above this spread (LU). The five professional songs' own vocals, mixed and
/// ridden by engineers, keep 0.45–1.8 LU against their backings (docs/assistant.md, "Ride"); a
/// balance that moves more than 2 LU moves more than any of them lets it.
pub const RIDE_ON_SPREAD_LU: f64 = 2.0;
/// Fewer sung windows than this (3 s each, every 100 ms: 5 s of singing) say too little.
const MIN_SUNG_WINDOWS: usize = 50;

/// The ride's part of the level decision.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct RideDecision {
    pub on: bool,
    /// The spread of the processed vocal's 3 s balance over the sung windows, LU.
    pub spread_lu: Option<f64>,
    /// Seconds of sung windows measured.
    pub sung_seconds: f64,
    /// The balance (vocal − backing before the fader, LU) the ride holds.
    pub balance_db: f32,
    pub reason: String,
}

/// `processed`, `dry` and `backing` are 100 ms K-weighted block energies on one time grid: the
/// processed vocal, the unprocessed one (which decides the sung windows) and the backing.
/// `balance_db` is the integrated balance before the fader, None without a backing.
pub fn decide(
    processed: &[f64],
    dry: &[f64],
    backing: &[f64],
    balance_db: Option<f64>,
) -> RideDecision {
    let Some(balance_db) = balance_db else {
        return RideDecision {
            reason: "no backing track: nothing to ride against".into(),
            ..Default::default()
        };
    };
    let balance_db = ((balance_db * 10.0).round() / 10.0) as f32;
    let sung = sung_windows(dry, backing);
    let windows = sung.iter().filter(|s| **s).count();
    let sung_seconds = windows as f64 * 0.1;
    let spread = std_dev(&balance(processed, backing, &sung));
    let (on, reason) = match spread {
        Some(s) if windows >= MIN_SUNG_WINDOWS && s > RIDE_ON_SPREAD_LU => (
            true,
            format!(
                "the balance moves: its 3 s spread is {s:.1} LU over {sung_seconds:.0} s of singing, more than the {RIDE_ON_SPREAD_LU:.0} LU professionals keep; the ride holds it at {balance_db:+.1} LU"
            ),
        ),
        Some(s) if windows >= MIN_SUNG_WINDOWS => (
            false,
            format!(
                "the balance holds: its 3 s spread is {s:.1} LU, within the {RIDE_ON_SPREAD_LU:.0} LU professionals keep; no ride"
            ),
        ),
        _ => (
            false,
            format!(
                "{sung_seconds:.1} s of singing is too little to tell whether the balance moves; no ride"
            ),
        ),
    };
    RideDecision {
        on,
        spread_lu: spread.map(|s| (s * 100.0).round() / 100.0),
        sung_seconds,
        balance_db,
        reason,
    }
}
