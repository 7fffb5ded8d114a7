//! Tone correction: the EQ moves the vocal's long-term octave-band balance toward the balance of
//! professionally mixed vocals, by as much as the departure is likely to be a fault rather than
//! the singer's own tone.
//!
//! The masking rule ([`crate::masking_eq`]) looks at the vocal only against the backing: a vocal
//! recorded with a boomy microphone or a harsh preamp keeps its fault. Here the vocal's tone —
//! each octave band's level relative to the vocal's integrated loudness — is compared with a
//! target tone measured on professional vocal stems. A departure `d` in a band is two things
//! added: the singer's and the song's own tone (professional vocals spread around the target
//! by `σ`, the band's spread) and a recording fault (assumed to spread by
//! [`EXPECTED_FAULT_DB`]). The correction undoes the fault's most likely share, the posterior mean
//! under both spreads: `d · F² / (F² + σ²)`. Where professionals agree (1 kHz: σ under 1 dB) a
//! departure is almost all fault and is almost all undone; where they differ widely (63 Hz: σ
//! near 14 dB) it is mostly taste and is left nearly alone.
//!
//! The correction is made with the chain's bells (Q 1, octave centres). Neighbouring bells
//! overlap (a bell of Q 1 moves the next octave band by about a third of its gain), so the gains
//! are solved for together: at most [`MAX_BELLS`] bells, chosen greedily where the remaining
//! departure is largest, their gains the least-squares fit of the bands' wanted change.

use crate::masking_eq::{MAX_FILTERS, Q, hz_text, round2};
use crate::suggestion::{EqDecision, EqFilter};
use automix_dsp::params::EQ_BANDS;

/// Bells the tone correction may use (the chain's EQ decision uses four filters in all).
pub const MAX_BELLS: usize = 4;
/// The largest correction a bell makes, dB: beyond it the vocal is broken, not mis-toned.
pub const MAX_GAIN_DB: f64 = 12.0;
/// A departure left after the bells smaller than this is not worth another bell, dB.
const GOOD_ENOUGH_DB: f64 = 1.0;
/// A correction smaller than this is not applied, dB (the parameter's resolution is 0.1 dB;
/// half a dB is under what a listener notices in an octave band).
const SMALLEST_GAIN_DB: f64 = 0.5;

/// The vocal tone to aim for: per octave band (63 Hz … 16 kHz), the level relative to the
/// vocal's integrated loudness, and how much professional vocals spread around it.
#[derive(Clone, Debug, PartialEq)]
pub struct ToneTarget {
    pub relative_db: [f64; 9],
    /// The standard deviation of professional vocals in each band, dB.
    pub spread_db: [f64; 9],
    /// Where the target comes from, for the suggestion's reasons.
    pub source: String,
}

/// How far, per band, a recording's tone is assumed to depart from a produced one when it is at
/// fault, dB (standard deviation). Chosen on the evaluation (docs/assistant.md): larger undoes
/// more of a bad EQ but moves good vocals more.
pub const EXPECTED_FAULT_DB: f64 = 3.0;
/// The smallest spread a band is given, dB: a handful of vocals can agree by chance.
pub const MIN_SPREAD_DB: f64 = 1.0;

impl ToneTarget {
    /// The target from the tones of professional vocals (each as [`crate::vocal_tone`] measures
    /// it): their mean and spread.
    pub fn fit(tones: &[[f64; 9]], source: impl Into<String>) -> Option<ToneTarget> {
        if tones.len() < 2 {
            return None;
        }
        let n = tones.len() as f64;
        let mean: [f64; 9] = std::array::from_fn(|b| tones.iter().map(|t| t[b]).sum::<f64>() / n);
        let spread = std::array::from_fn(|b| {
            let var = tones.iter().map(|t| (t[b] - mean[b]).powi(2)).sum::<f64>() / (n - 1.0);
            var.sqrt()
        });
        Some(ToneTarget {
            relative_db: mean.map(round2),
            spread_db: spread.map(round2),
            source: source.into(),
        })
    }

    /// The share of a departure in band `b` that the correction undoes.
    pub fn fault_share(&self, b: usize) -> f64 {
        let s = self.spread_db[b].max(MIN_SPREAD_DB);
        EXPECTED_FAULT_DB.powi(2) / (EXPECTED_FAULT_DB.powi(2) + s * s)
    }
}

/// The level change (dB) a bell of Q 1 at `centre` with gain `gain_db` makes to the octave band
/// around `band` (its power averaged over the band on a log-frequency grid). The analogue
/// prototype of the cookbook peaking filter; the chain's bilinear bells match it well below a
/// quarter of the sample rate, and the octave bands average out the difference above.
pub fn bell_on_band(centre: f64, gain_db: f64, band: f64) -> f64 {
    const POINTS: usize = 9;
    let a = 10f64.powf(gain_db / 40.0);
    let q = 1.0;
    let mut power = 0.0;
    for i in 0..POINTS {
        // from band/√2 to band·√2
        let f = band * 2f64.powf((i as f64 + 0.5) / POINTS as f64 - 0.5);
        let w = f / centre;
        // |H(jw)|² of (s² + s·A/Q + 1)/(s² + s/(A·Q) + 1)
        let re = 1.0 - w * w;
        let num = re * re + (w * a / q).powi(2);
        let den = re * re + (w / (a * q)).powi(2);
        power += num / den;
    }
    10.0 * (power / POINTS as f64).log10()
}

/// The change in every band of bells with `gains` (dB) at the octave centres; the bells' effects
/// add in dB (they are in series).
pub fn response(gains: &[f64; 9]) -> [f64; 9] {
    std::array::from_fn(|b| {
        (0..9)
            .filter(|&k| gains[k] != 0.0)
            .map(|k| bell_on_band(EQ_BANDS[k].0 as f64, gains[k], EQ_BANDS[b].0 as f64))
            .sum()
    })
}

/// The tone correction for a vocal whose tone (each band relative to its loudness, dB) is
/// `tone`.
#[derive(Clone, Debug, PartialEq)]
pub struct Correction {
    /// Per band: the share of the departure from the target taken for a fault, dB.
    pub fault_db: [f64; 9],
    /// The bells' gains, dB (0 for an unused bell).
    pub gains_db: [f64; 9],
}

pub fn correct(tone: &[f64; 9], target: &ToneTarget) -> Correction {
    let excess: [f64; 9] =
        std::array::from_fn(|b| (tone[b] - target.relative_db[b]) * target.fault_share(b));
    let wanted = excess.map(|e| -e);
    let mut chosen: Vec<usize> = Vec::new();
    let mut gains = [0.0f64; 9];
    for _ in 0..MAX_BELLS {
        let now = response(&gains);
        let residual: [f64; 9] = std::array::from_fn(|b| wanted[b] - now[b]);
        let worst = (0..9)
            .filter(|b| !chosen.contains(b))
            .max_by(|&a, &b| residual[a].abs().total_cmp(&residual[b].abs()));
        match worst {
            Some(b) if residual[b].abs() >= GOOD_ENOUGH_DB => chosen.push(b),
            _ => break,
        }
        gains = fit(&chosen, &wanted);
    }
    for g in &mut gains {
        if g.abs() < SMALLEST_GAIN_DB {
            *g = 0.0;
        }
        *g = (*g * 10.0).round() / 10.0;
    }
    Correction {
        fault_db: excess.map(round2),
        gains_db: gains,
    }
}

/// Gains of the `chosen` bells whose response best matches `wanted` over the nine bands: a few
/// Gauss–Newton steps on the (nearly linear in dB) bell responses, each a small least-squares
/// solve.
fn fit(chosen: &[usize], wanted: &[f64; 9]) -> [f64; 9] {
    let mut gains = [0.0f64; 9];
    for &k in chosen {
        gains[k] = wanted[k].clamp(-MAX_GAIN_DB, MAX_GAIN_DB);
    }
    for _ in 0..4 {
        let now = response(&gains);
        let residual: Vec<f64> = (0..9).map(|b| wanted[b] - now[b]).collect();
        // the Jacobian by a finite difference of 1 dB per chosen bell
        let jac: Vec<[f64; 9]> = chosen
            .iter()
            .map(|&k| {
                let mut g = gains;
                g[k] += 1.0;
                let r = response(&g);
                std::array::from_fn(|b| r[b] - now[b])
            })
            .collect();
        let n = chosen.len();
        let mut a = vec![vec![0.0f64; n + 1]; n];
        for i in 0..n {
            for j in 0..n {
                a[i][j] = (0..9).map(|b| jac[i][b] * jac[j][b]).sum();
            }
            // a little ridge keeps a bell whose band is far from every departure at rest
            a[i][i] += 0.05;
            a[i][n] = (0..9).map(|b| jac[i][b] * residual[b]).sum();
        }
        let Some(step) = solve(a) else { break };
        for (i, &k) in chosen.iter().enumerate() {
            gains[k] = (gains[k] + step[i]).clamp(-MAX_GAIN_DB, MAX_GAIN_DB);
        }
    }
    gains
}

/// Gaussian elimination with partial pivoting on an augmented n × (n+1) matrix.
fn solve(mut a: Vec<Vec<f64>>) -> Option<Vec<f64>> {
    let n = a.len();
    for c in 0..n {
        let p = (c..n).max_by(|&i, &j| a[i][c].abs().total_cmp(&a[j][c].abs()))?;
        if a[p][c].abs() < 1e-12 {
            return None;
        }
        a.swap(c, p);
        let pivot = a[c].clone();
        for (r, row) in a.iter_mut().enumerate() {
            if r != c {
                let f = row[c] / pivot[c];
                for (x, p) in row.iter_mut().zip(&pivot).skip(c) {
                    *x -= f * p;
                }
            }
        }
    }
    Some((0..n).map(|i| a[i][n] / a[i][i]).collect())
}

/// Why band `b` moves, for the suggestion.
pub fn reason(b: usize, tone: &[f64; 9], target: &ToneTarget, gain: f64) -> String {
    let d = tone[b] - target.relative_db[b];
    let hz = hz_text(EQ_BANDS[b].0);
    format!(
        "tone: {gain:+.1} dB at {hz}: the vocal is {d:+.1} dB off the target tone there ({}; professional vocals spread by {:.1} dB, so {:.0} % of it is taken for a fault)",
        target.source,
        target.spread_db[b],
        100.0 * target.fault_share(b)
    )
}

/// The EQ decision with the tone correction `c` added to the masking rule's: the gains add; when
/// together they need more than the chain's four filters, the masking bells that the tone does
/// not use give way, smallest first (a vocal that is wrong in itself is the larger fault).
pub fn with_masking(
    mut masking: EqDecision,
    vocal_db: &[f64; 9],
    tone: &[f64; 9],
    target: &ToneTarget,
    c: &Correction,
) -> EqDecision {
    let masking_gain: [f64; 9] =
        std::array::from_fn(|b| masking.bands.get(b).map_or(0.0, |r| r.gain_db as f64));
    let tone_bands: Vec<usize> = (0..9).filter(|&b| c.gains_db[b] != 0.0).collect();
    let mut masking_only: Vec<usize> = (0..9)
        .filter(|&b| masking_gain[b] != 0.0 && c.gains_db[b] == 0.0)
        .collect();
    masking_only.sort_by(|&a, &b| masking_gain[b].abs().total_cmp(&masking_gain[a].abs()));
    masking_only.truncate(MAX_FILTERS.saturating_sub(tone_bands.len()));
    let spec = EQ_BANDS[0].1.spec();
    let mut filters = Vec::new();
    for b in 0..9 {
        let from_masking = if masking_only.contains(&b) || tone_bands.contains(&b) {
            masking_gain[b]
        } else {
            0.0
        };
        let gain = ((c.gains_db[b] + from_masking) as f32).clamp(spec.min, spec.max);
        let gain = (gain * 10.0).round() / 10.0;
        if let Some(r) = masking.bands.get_mut(b) {
            r.vocal_db = round2(vocal_db[b]);
            r.tone_off_target_db = Some(round2(tone[b] - target.relative_db[b]));
            r.gain_db = gain;
        }
        if gain == 0.0 {
            continue;
        }
        let masking_reason = masking
            .filters
            .iter()
            .find(|f| f.hz == EQ_BANDS[b].0)
            .map(|f| format!("masking: {}", f.reason));
        let reason = match (c.gains_db[b] != 0.0, masking_reason) {
            (true, Some(m)) if from_masking != 0.0 => {
                format!("{}; {m}", reason(b, tone, target, c.gains_db[b]))
            }
            (true, _) => reason(b, tone, target, c.gains_db[b]),
            (false, Some(m)) => m,
            (false, None) => continue,
        };
        filters.push(EqFilter {
            hz: EQ_BANDS[b].0,
            gain_db: gain,
            q: Q,
            reason,
        });
    }
    let tone_part = if tone_bands.is_empty() {
        format!(
            "tone: the vocal is near the target tone ({}), no bell needed",
            target.source
        )
    } else {
        format!(
            "tone: {} bell(s) move the vocal toward the target tone ({})",
            tone_bands.len(),
            target.source
        )
    };
    let given_way: Vec<String> = (0..9)
        .filter(|&b| masking_gain[b] != 0.0 && c.gains_db[b] == 0.0 && !masking_only.contains(&b))
        .map(|b| format!("{:+.1} dB at {}", masking_gain[b], hz_text(EQ_BANDS[b].0)))
        .collect();
    let mut masking_part = masking.reason.clone();
    if !given_way.is_empty() {
        masking_part = format!(
            "{masking_part} (of which {} gave way to the tone's bells: four filters in all)",
            given_way.join(", ")
        );
    }
    masking.reason = format!("{tone_part}; masking: {masking_part}");
    masking.filters = filters;
    masking
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target() -> ToneTarget {
        ToneTarget {
            relative_db: [-40.0, -25.0, -10.0, -5.0, -4.0, -8.0, -14.0, -18.0, -28.0],
            spread_db: [14.0, 9.0, 4.0, 3.0, 0.5, 2.5, 5.0, 3.0, 4.0],
            source: "test".into(),
        }
    }

    #[test]
    fn a_bell_moves_its_own_band_by_about_its_gain_and_its_neighbours_less() {
        let own = bell_on_band(1000.0, 12.0, 1000.0);
        let next = bell_on_band(1000.0, 12.0, 2000.0);
        let far = bell_on_band(1000.0, 12.0, 8000.0);
        assert!((8.0..12.0).contains(&own), "{own}");
        assert!((1.5..6.0).contains(&next), "{next}");
        assert!(far.abs() < 0.5, "{far}");
        // a cut is nearly the boost's mirror image (the band averages power, not dB)
        assert!((bell_on_band(1000.0, -12.0, 2000.0) + next).abs() < 1.0);
        assert!((bell_on_band(1000.0, -12.0, 1000.0) + own).abs() < 1.0);
    }

    #[test]
    fn a_departure_where_professionals_differ_widely_is_left_nearly_alone() {
        let t = target();
        let mut tone = t.relative_db;
        tone[0] += 8.0;
        let c = correct(&tone, &t);
        // 63 Hz: σ 14 dB, so only 4 % of +8 dB is taken for a fault: under half a dB, no bell
        assert_eq!(c.gains_db, [0.0; 9]);
    }

    #[test]
    fn a_bell_put_on_the_vocal_is_undone_most_where_professionals_agree() {
        let t = target();
        let mut applied = [0.0f64; 9];
        applied[4] = 10.0;
        applied[1] = -9.0;
        let r = response(&applied);
        let tone: [f64; 9] = std::array::from_fn(|b| t.relative_db[b] + r[b]);
        let c = correct(&tone, &t);
        let after = response(&c.gains_db);
        let before: f64 = (0..9).map(|b| r[b].abs()).sum();
        let left: f64 = (0..9).map(|b| (r[b] + after[b]).abs()).sum();
        assert!(
            left < 0.6 * before,
            "{left:.1} of {before:.1} dB left ({c:?})"
        );
        // 1 kHz (σ 0.5 → floor 1 dB): 90 % undone; 125 Hz (σ 9 dB): 10 %
        assert!(c.gains_db[4] < -7.0, "{c:?}");
        assert!(c.gains_db[1].abs() < 2.0, "{c:?}");
        assert!(c.gains_db.iter().filter(|g| **g != 0.0).count() <= MAX_BELLS);
    }

    #[test]
    fn the_fit_takes_the_mean_and_the_spread() {
        let a = [0.0; 9];
        let mut b = [0.0; 9];
        b[0] = 10.0;
        let t = ToneTarget::fit(&[a, b], "two").unwrap();
        assert_eq!(t.relative_db[0], 5.0);
        assert!((t.spread_db[0] - 50f64.sqrt()).abs() < 0.01);
        assert_eq!(t.spread_db[1], 0.0);
        assert!((t.fault_share(1) - 0.9).abs() < 1e-9);
        assert!(ToneTarget::fit(&[a], "one").is_none());
    }
}
