//! The EQ rule: masking reduction after Hafezi & Reiss (JAES 2015), as Li & Lerch modify it —
//! nine octave bands (63 Hz … 16 kHz), each signal's band levels normalised by subtracting their
//! mean, the top six bands of the vocal and the top two of the backing essential, at most four
//! peak filters of Q 1, on the vocal only.
//!
//! Either signal can mask the other; only the vocal is filtered. What the paper leaves open, and
//! how it is decided here:
//!
//! * **The backing's essential bands** are where it carries its identity (the bass and kick, a
//!   pad). Vocal energy there masks them (Hafezi & Reiss cut the masker in a band the maskee
//!   needs), and when the band is essential to the vocal too, the two fight over it: the vocal
//!   makes room. Each gets a **cut** as deep as the band stands out in the backing — half its
//!   prominence above the backing's band mean, 2 to 6 dB — unless the vocal has next to nothing
//!   there (more than 20 dB under its own band mean), where a cut would change nothing.
//! * **The vocal's other essential bands** are masked by the backing where the backing, with
//!   the vocal at its target level (1.77 LU under the backing, as the level rule will set it),
//!   is louder than the vocal in that band. Each gets a **boost** of half that excess, 1 to 6 dB,
//!   when the excess is at least 2 dB.
//!   No boosts below 250 Hz: there a vocal's energy is mostly proximity effect, rumble and
//!   handling noise, and lifting it muddies the mix more than it uncovers the voice.
//! * The four filters of largest magnitude are kept (ties to the lower band).
//!
//! ±6 dB keeps a rule of thumb from doing harm the listener would notice before the benefit; the
//! halving comes from Hafezi & Reiss's aim of reducing masking, not inverting it.

use crate::suggestion::{BandReport, EqDecision, EqFilter};
use automix_dsp::params::EQ_BANDS;

pub const VOCAL_ESSENTIAL: usize = 6;
pub const BACKING_ESSENTIAL: usize = 2;
pub const MAX_FILTERS: usize = 4;
pub const Q: f32 = 1.0;
pub const MAX_GAIN_DB: f64 = 6.0;
const MIN_CUT_DB: f64 = 2.0;
const MIN_BOOST_DB: f64 = 1.0;
const MIN_EXCESS_DB: f64 = 2.0;
const LOWEST_BOOST_HZ: f32 = 250.0;
/// A vocal band this far under the vocal's band mean has too little to cut.
const NOTHING_TO_CUT_DB: f64 = -20.0;
/// Floor for band levels of digital silence, dB.
pub const FLOOR_DB: f64 = -200.0;

/// Band levels in dB from mean-square band powers.
pub fn band_db(power: &[f64; 9]) -> [f64; 9] {
    power.map(|p| {
        if p > 0.0 {
            (10.0 * p.log10()).max(FLOOR_DB)
        } else {
            FLOOR_DB
        }
    })
}

fn relative(levels: &[f64; 9]) -> [f64; 9] {
    let mean = levels.iter().sum::<f64>() / 9.0;
    levels.map(|l| l - mean)
}

/// Indices of the `n` largest values (ties to the lower index).
fn top(values: &[f64; 9], n: usize) -> [bool; 9] {
    let mut order: Vec<usize> = (0..9).collect();
    order.sort_by(|&a, &b| values[b].total_cmp(&values[a]).then(a.cmp(&b)));
    let mut out = [false; 9];
    for &i in order.iter().take(n) {
        out[i] = true;
    }
    out
}

/// A band the rule would move, before the four largest are kept.
struct Candidate {
    band: usize,
    gain_db: f64,
    reason: String,
}

/// The bands' levels as the rule reads them.
struct Bands<'a> {
    vocal_db: &'a [f64; 9],
    backing_db: &'a [f64; 9],
    /// Each signal's levels less their mean over the bands.
    vocal_relative: [f64; 9],
    backing_relative: [f64; 9],
    vocal_essential: [bool; 9],
    backing_essential: [bool; 9],
    /// The gain that brings the vocal to its target level against the backing.
    vocal_shift_db: f64,
}

impl Bands<'_> {
    /// How far the backing is above the vocal in band `b` with the vocal at its target level.
    fn excess(&self, b: usize) -> f64 {
        self.backing_db[b] - (self.vocal_db[b] + self.vocal_shift_db)
    }
}

/// Decides the vocal's EQ from the band levels of both signals (dB, over the gated frames) and
/// the gain in dB that brings the vocal to its target level against the backing.
pub fn decide(vocal_db: &[f64; 9], backing_db: &[f64; 9], vocal_shift_db: f64) -> EqDecision {
    let vocal_relative = relative(vocal_db);
    let backing_relative = relative(backing_db);
    let bands = Bands {
        vocal_db,
        backing_db,
        vocal_essential: top(&vocal_relative, VOCAL_ESSENTIAL),
        backing_essential: top(&backing_relative, BACKING_ESSENTIAL),
        vocal_relative,
        backing_relative,
        vocal_shift_db,
    };
    let mut candidates = candidates(&bands);
    candidates.sort_by(|a, b| {
        b.gain_db
            .abs()
            .total_cmp(&a.gain_db.abs())
            .then(a.band.cmp(&b.band))
    });
    candidates.truncate(MAX_FILTERS);
    candidates.sort_by_key(|c| c.band);

    let mut gains = [0.0f32; 9];
    let filters: Vec<EqFilter> = candidates
        .into_iter()
        .map(|c| {
            // the parameter's resolution: a tenth of a dB
            let g = ((c.gain_db * 10.0).round() / 10.0) as f32;
            gains[c.band] = g;
            EqFilter {
                hz: EQ_BANDS[c.band].0,
                gain_db: g,
                q: Q,
                reason: c.reason,
            }
        })
        .collect();
    let report = (0..9)
        .map(|b| BandReport {
            hz: EQ_BANDS[b].0,
            vocal_db: round2(vocal_db[b]),
            backing_db: Some(round2(backing_db[b])),
            vocal_relative_db: round2(bands.vocal_relative[b]),
            backing_relative_db: Some(round2(bands.backing_relative[b])),
            vocal_essential: bands.vocal_essential[b],
            backing_essential: bands.backing_essential[b],
            backing_over_vocal_db: Some(round2(bands.excess(b))),
            tone_off_target_db: None,
            gain_db: gains[b],
        })
        .collect();
    let reason = if filters.is_empty() {
        "no masking to reduce: the EQ stays flat".to_string()
    } else {
        filters
            .iter()
            .map(|f| f.reason.split(':').next().unwrap_or_default().to_string())
            .collect::<Vec<_>>()
            .join("; ")
    };
    EqDecision {
        bands: report,
        filters,
        reason,
    }
}

/// Every band the rule would move: cuts where the backing is strongest, boosts where an
/// essential vocal band is covered.
fn candidates(bands: &Bands) -> Vec<Candidate> {
    let (nv, nb) = (&bands.vocal_relative, &bands.backing_relative);
    let mut out = Vec::new();
    for b in 0..9 {
        let hz = hz_text(EQ_BANDS[b].0);
        let excess = bands.excess(b);
        if bands.backing_essential[b] {
            if nv[b] < NOTHING_TO_CUT_DB {
                continue;
            }
            let cut = (nb[b] / 2.0).clamp(MIN_CUT_DB, MAX_GAIN_DB);
            let reason = if bands.vocal_essential[b] {
                format!(
                    "cut {cut:.1} dB at {hz}: the backing's strongest region ({:+.1} dB over its average) is essential to the vocal too; the vocal makes room",
                    nb[b]
                )
            } else {
                format!(
                    "cut {cut:.1} dB at {hz}: the vocal does not need this band, and there it masks the backing's strongest region ({:+.1} dB over its average)",
                    nb[b]
                )
            };
            out.push(Candidate {
                band: b,
                gain_db: -cut,
                reason,
            });
        } else if bands.vocal_essential[b]
            && excess >= MIN_EXCESS_DB
            && EQ_BANDS[b].0 >= LOWEST_BOOST_HZ
        {
            let boost = (excess / 2.0).clamp(MIN_BOOST_DB, MAX_GAIN_DB);
            out.push(Candidate {
                band: b,
                gain_db: boost,
                reason: format!(
                    "boost {boost:.1} dB at {hz}: an essential vocal band that the backing covers by {excess:.1} dB at the target level"
                ),
            });
        }
    }
    out
}

/// The EQ left flat, with the vocal's bands reported when known.
pub fn flat(vocal_db: Option<&[f64; 9]>, reason: &str) -> EqDecision {
    let bands = match vocal_db {
        Some(v) => {
            let nv = relative(v);
            let ev = top(&nv, VOCAL_ESSENTIAL);
            (0..9)
                .map(|b| BandReport {
                    hz: EQ_BANDS[b].0,
                    vocal_db: round2(v[b]),
                    backing_db: None,
                    vocal_relative_db: round2(nv[b]),
                    backing_relative_db: None,
                    vocal_essential: ev[b],
                    backing_essential: false,
                    backing_over_vocal_db: None,
                    tone_off_target_db: None,
                    gain_db: 0.0,
                })
                .collect()
        }
        None => Vec::new(),
    };
    EqDecision {
        bands,
        filters: Vec::new(),
        reason: reason.into(),
    }
}

pub fn hz_text(hz: f32) -> String {
    if hz >= 1000.0 {
        format!("{} kHz", hz / 1000.0)
    } else {
        format!("{hz} Hz")
    }
}

pub fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}
