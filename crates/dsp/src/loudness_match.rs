//! A/B at matched loudness: the unprocessed vocal, raised or lowered to the loudness of the mix,
//! so the comparison is of the processing and not of "louder sounds better".
//!
//! Both paths run through BS.1770 K-weighting; their powers are averaged with a 3 s time
//! constant (the span of EBU short-term loudness) over blocks where the vocal sings (above −60
//! LUFS), and the dry path's gain is the ratio of the two. Switching crossfades over 20 ms, and the
//! gain moves in ramps, so neither the switch nor the matching clicks.

use crate::loudness::KWeighting;

/// Averaging time constant, seconds.
const SECONDS: f64 = 3.0;
/// Blocks quieter than this (dry, K-weighted) leave the averages alone: silence between phrases
/// would otherwise decide the gain.
const GATE_LUFS: f64 = -60.0;
/// The widest correction, dB either way.
const LIMIT_DB: f32 = 30.0;
/// Crossfade when switching, seconds.
const FADE_SECONDS: f32 = 0.02;

pub struct LoudnessMatch {
    rate: f64,
    weighting: [KWeighting; 4],
    /// Averaged K-weighted power of the dry and the processed vocal (sum of both channels).
    dry_power: f64,
    wet_power: f64,
    /// Whether the averages have heard any singing yet.
    heard: bool,
    gain: f32,
    /// 0: the mix, 1: the unprocessed vocal.
    mix: f32,
}

impl LoudnessMatch {
    pub fn new(sample_rate: f32) -> Self {
        let rate = sample_rate as f64;
        LoudnessMatch {
            rate,
            weighting: [KWeighting::new(rate); 4],
            dry_power: 0.0,
            wet_power: 0.0,
            heard: false,
            gain: 1.0,
            mix: 0.0,
        }
    }

    /// The gain the unprocessed vocal gets, dB (0 until singing has been heard).
    pub fn gain_db(&self) -> f32 {
        20.0 * self.gain.log10()
    }

    /// Whether the output is (or is fading to) the unprocessed vocal.
    pub fn is_active(&self) -> bool {
        self.mix > 0.0
    }

    /// Measures one block of both paths; with `unprocessed`, replaces the processed block in
    /// `wet` with the matched dry one. `dry` and `wet` have the same length.
    pub fn process(&mut self, dry: [&[f32]; 2], wet: [&mut [f32]; 2], unprocessed: bool) {
        let n = dry[0]
            .len()
            .min(dry[1].len())
            .min(wet[0].len())
            .min(wet[1].len());
        if n == 0 {
            return;
        }
        let [wl, wr] = wet;
        let mut sums = [0.0f64; 2];
        for i in 0..n {
            let d = [dry[0][i], dry[1][i]];
            let w = [wl[i], wr[i]];
            let [a, b, c, e] = &mut self.weighting;
            let (x, y) = (a.tick(d[0]), b.tick(d[1]));
            let (u, v) = (c.tick(w[0]), e.tick(w[1]));
            sums[0] += x * x + y * y;
            sums[1] += u * u + v * v;
        }
        let (dry_block, wet_block) = (sums[0] / n as f64, sums[1] / n as f64);
        if -0.691 + 10.0 * dry_block.max(1e-30).log10() > GATE_LUFS {
            let keep = (-(n as f64) / (SECONDS * self.rate)).exp();
            if self.heard {
                self.dry_power = keep * self.dry_power + (1.0 - keep) * dry_block;
                self.wet_power = keep * self.wet_power + (1.0 - keep) * wet_block;
            } else {
                (self.dry_power, self.wet_power, self.heard) = (dry_block, wet_block, true);
            }
        }
        let target = if self.heard && self.dry_power > 0.0 {
            let limit = 10f32.powf(LIMIT_DB / 20.0);
            ((self.wet_power / self.dry_power).sqrt() as f32).clamp(1.0 / limit, limit)
        } else {
            1.0
        };
        let goal = if unprocessed { 1.0 } else { 0.0 };
        if self.mix == 0.0 && goal == 0.0 {
            self.gain = target;
            return;
        }
        let fade_step = 1.0 / (FADE_SECONDS * self.rate as f32);
        let gain_step = (target - self.gain) / n as f32;
        for i in 0..n {
            self.gain += gain_step;
            self.mix = if goal > self.mix {
                (self.mix + fade_step).min(1.0)
            } else {
                (self.mix - fade_step).max(0.0)
            };
            let g = self.gain * self.mix;
            let keep = 1.0 - self.mix;
            wl[i] = keep * wl[i] + g * dry[0][i];
            wr[i] = keep * wr[i] + g * dry[1][i];
        }
        self.gain = target;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::vocal_line;

    const RATE: f32 = 48_000.0;

    fn run(m: &mut LoudnessMatch, dry: &[f32], wet_gain: f32, unprocessed: bool) -> Vec<f32> {
        let mut out = Vec::with_capacity(dry.len());
        for block in dry.chunks(256) {
            let mut l: Vec<f32> = block.iter().map(|x| x * wet_gain).collect();
            let mut r = l.clone();
            m.process([block, block], [&mut l, &mut r], unprocessed);
            out.extend(&l);
        }
        out
    }

    fn rms(x: &[f32]) -> f32 {
        (x.iter().map(|v| v * v).sum::<f32>() / x.len() as f32).sqrt()
    }

    #[test]
    fn the_unprocessed_vocal_plays_at_the_loudness_of_the_mix() {
        let dry = vocal_line(RATE, 8.0, 0.3, 5);
        let mut m = LoudnessMatch::new(RATE);
        // the mix is the vocal 9 dB up: listening to it, then switching
        let wet_gain = 10f32.powf(9.0 / 20.0);
        let mixed = run(&mut m, &dry[..4 * RATE as usize], wet_gain, false);
        assert!((m.gain_db() - 9.0).abs() < 0.1, "{}", m.gain_db());
        let ab = run(&mut m, &dry[4 * RATE as usize..], wet_gain, true);
        assert!(m.is_active());
        // after the fade: the dry vocal, matched
        let tail = &ab[RATE as usize..];
        let dry_tail = &dry[5 * RATE as usize..];
        let db = 20.0 * (rms(tail) / rms(dry_tail)).log10();
        assert!((db - 9.0).abs() < 0.1, "{db}");
        // sample for sample what the mix would have been, had it only raised the vocal
        let err = tail
            .iter()
            .zip(dry_tail)
            .map(|(y, x)| (y - x * wet_gain).abs())
            .fold(0.0, f32::max);
        assert!(err < 0.01 * rms(&mixed), "{err}");
    }

    #[test]
    fn switching_glides_instead_of_stepping() {
        let dry = vocal_line(RATE, 3.0, 0.3, 6);
        let mut m = LoudnessMatch::new(RATE);
        // the processed path is inverted: a hard switch would jump by twice the signal
        let mut out = run(&mut m, &dry[..RATE as usize], -1.0, false);
        out.extend(run(&mut m, &dry[RATE as usize..], -1.0, true));
        let largest = |x: &[f32]| {
            x.windows(2)
                .map(|w| (w[1] - w[0]).abs())
                .fold(0.0, f32::max)
        };
        let at = RATE as usize;
        let around = largest(&out[at - 64..at + 2000]);
        let elsewhere = largest(&out[..at - 64]);
        assert!(around <= 1.5 * elsewhere, "{around} vs {elsewhere}");
    }

    #[test]
    fn silence_leaves_the_gain_where_singing_put_it() {
        let dry = vocal_line(RATE, 3.0, 0.3, 7);
        let mut m = LoudnessMatch::new(RATE);
        run(&mut m, &dry, 0.5, false);
        let g = m.gain_db();
        run(&mut m, &vec![0.0; RATE as usize * 5], 0.5, true);
        assert_eq!(m.gain_db(), g);
        assert!((g + 6.02).abs() < 0.1, "{g}");
    }
}
