//! The de-esser's settings, from how loud the vocal's sibilants are against the professional
//! vocals'.
//!
//! The measure is taken with the de-esser's own detector: the vocal (after the EQ the assistant
//! chose) is split at [`MEASURE_HZ`], and the upper band's envelope is read every control period.
//! Sibilance is the 98th percentile of that envelope over the sung passages (100 ms blocks within
//! 20 LU of the vocal's integrated loudness), relative to the vocal's integrated loudness, in dB:
//! how far the loudest esses stand out of the voice. The professional vocals' median is the target
//! ([`TARGET_DB`], docs/assistant.md, "De-esser"). A vocal more than [`MARGIN_DB`] over it gets
//! the de-esser, its threshold where the target puts the esses and its range what it takes to
//! bring the loudest down to it.

use serde::{Deserialize, Serialize};

use crate::loudness::{Blocks, energy};
use automix_dsp::chain::CONTROL;
use automix_dsp::de_esser::envelope_db;

/// The split the measure uses (and the de-esser gets): the bottom of the sibilance band
/// (esses carry most of their energy from 5 to 10 kHz; a Linkwitz-Riley split turns a band
/// down fully from about 1.3 times its frequency).
pub const MEASURE_HZ: f32 = 4_000.0;
/// The professional vocals' sibilance, dB over their integrated loudness: the median of the five
/// professional songs' vocal stems in `../shared/audio` (−3.7, 2.3, 3.9, 4.5, 8.3 dB; test
/// `cli/tests/eval/ride.rs`, `professional_sibilance`).
pub const TARGET_DB: f64 = 3.9;
/// Within this over the target, the vocal is left alone: the professionals' own vocals spread
/// about that far around their median (their middle three lie within 1.6 dB of it, the
/// brightest 4.4 dB over), so a vocal inside it sounds like one of theirs.
pub const MARGIN_DB: f64 = 3.0;
/// The range the de-esser gets beyond the excess it measures, and its limits.
const RANGE_HEADROOM_DB: f64 = 2.0;
const RANGE_LIMITS_DB: (f64, f64) = (3.0, 12.0);
/// Blocks quieter than this under the integrated loudness are not singing.
const SUNG_WITHIN_LU: f64 = 20.0;
const PERCENTILE: f64 = 0.98;

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct DeEsserDecision {
    pub on: bool,
    /// The vocal's sibilance, dB over its integrated loudness.
    pub sibilance_db: Option<f64>,
    pub target_db: f64,
    pub freq_hz: f32,
    pub threshold_db: f32,
    pub range_db: f32,
    pub reason: String,
}

/// The vocal's sibilance (see the module's text) and its integrated loudness, from a mono signal
/// at `rate`; None when nothing is sung.
pub fn measure(signal: &[f32], rate: u32) -> Option<(f64, f64)> {
    let blocks = Blocks::of_mono(signal, rate);
    let level = blocks.integrated()?;
    let floor = energy(level - SUNG_WITHIN_LU);
    let block_len = (rate as usize).div_ceil(10);
    let env = envelope_db(signal, rate as f32, MEASURE_HZ);
    let mut sung: Vec<f32> = env
        .iter()
        .enumerate()
        .filter(|(k, _)| {
            blocks
                .0
                .get(k * CONTROL / block_len)
                .is_some_and(|&e| e >= floor)
        })
        .map(|(_, &e)| e)
        .collect();
    if sung.len() < 100 {
        return None;
    }
    sung.sort_by(f32::total_cmp);
    let p = sung[((sung.len() - 1) as f64 * PERCENTILE) as usize] as f64;
    Some((p - level, level))
}

/// The de-esser for a vocal measured at `sibilance` (and its integrated loudness).
pub fn decide(measured: Option<(f64, f64)>) -> DeEsserDecision {
    let off = |reason: String| DeEsserDecision {
        target_db: TARGET_DB,
        freq_hz: MEASURE_HZ,
        threshold_db: automix_dsp::params::ParamId::DeessThreshold.spec().default,
        range_db: automix_dsp::params::ParamId::DeessRange.spec().default,
        reason,
        ..Default::default()
    };
    let Some((sibilance, level)) = measured else {
        return off("too little singing to measure sibilance; no de-esser".into());
    };
    let excess = sibilance - TARGET_DB;
    if excess <= MARGIN_DB {
        let mut d = off(format!(
            "sibilance {sibilance:+.1} dB over the voice, within {MARGIN_DB:.0} dB of the professional vocals' {TARGET_DB:+.1} dB; no de-esser"
        ));
        d.sibilance_db = Some(round1(sibilance));
        return d;
    }
    let threshold = (level + TARGET_DB).clamp(-60.0, 0.0);
    let range = (excess + RANGE_HEADROOM_DB).clamp(RANGE_LIMITS_DB.0, RANGE_LIMITS_DB.1);
    DeEsserDecision {
        on: true,
        sibilance_db: Some(round1(sibilance)),
        target_db: TARGET_DB,
        freq_hz: MEASURE_HZ,
        threshold_db: round1(threshold) as f32,
        range_db: round1(range) as f32,
        reason: format!(
            "sibilance {sibilance:+.1} dB over the voice, {excess:.1} dB above the professional vocals' {TARGET_DB:+.1} dB: esses over {threshold:.1} dBFS above {:.1} kHz come down by up to {range:.1} dB",
            MEASURE_HZ / 1000.0
        ),
    }
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}
