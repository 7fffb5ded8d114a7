//! Vocal-activity detection (seed 004's CNN): which stretches of a recording have a singing
//! voice in them. Frames of 40 ms every 20 ms at any rate ([`Geometry`]); the model sees a
//! context of frames around each (±20 in seed 004; `models.json` says how many) and is run over
//! a song in chunks whose margins hold that context, so the result equals one pass over the
//! whole song.

use crate::frames::{Fft, Geometry, VAD_BINS, hann};
use crate::models::VadModel;

/// Frames per VAD call.
const CHUNK: usize = 2048;
/// Frames quieter than this (power, −90 dBFS) are silence, not singing, whatever the model says:
/// it learnt from recordings with a noise floor and never met digital silence.
const SILENCE_POWER: f64 = 1e-9;
/// Active stretches closer than this are one stretch in [`VocalActivity::stretches`].
pub const MERGE_GAP_SECONDS: f64 = 0.25;

/// Per-frame vocal probabilities of one recording.
#[derive(Clone, Debug)]
pub struct VocalActivity {
    pub probability: Vec<f32>,
    pub threshold: f32,
    /// Seconds from one frame to the next, and each frame's length.
    pub hop_seconds: f64,
    pub window_seconds: f64,
}

impl VocalActivity {
    pub fn active(&self, frame: usize) -> bool {
        self.probability
            .get(frame)
            .is_some_and(|&p| p >= self.threshold)
    }

    /// The share of frames that are vocal (0 with no frames).
    pub fn active_share(&self) -> f64 {
        if self.probability.is_empty() {
            return 0.0;
        }
        let n = (0..self.probability.len())
            .filter(|&k| self.active(k))
            .count();
        n as f64 / self.probability.len() as f64
    }

    /// Where frame `k`'s own 20 ms (its centre ± half a hop) begins, in seconds.
    fn frame_start(&self, k: usize) -> f64 {
        (k as f64 * self.hop_seconds + self.window_seconds / 2.0 - self.hop_seconds / 2.0).max(0.0)
    }

    /// The vocal stretches as (start, end) seconds: runs of vocal frames, gaps shorter than
    /// [`MERGE_GAP_SECONDS`] bridged (a breath inside a phrase is not the phrase's end).
    pub fn stretches(&self) -> Vec<(f64, f64)> {
        let mut out: Vec<(f64, f64)> = Vec::new();
        let mut k = 0;
        while k < self.probability.len() {
            if !self.active(k) {
                k += 1;
                continue;
            }
            let first = k;
            while k < self.probability.len() && self.active(k) {
                k += 1;
            }
            let (start, end) = (self.frame_start(first), self.frame_start(k));
            match out.last_mut() {
                Some(last) if start - last.1 < MERGE_GAP_SECONDS => last.1 = end,
                _ => out.push((start, end)),
            }
        }
        out
    }

    /// The probability at time `seconds` (linear between frame centres, held past the ends).
    pub fn at(&self, seconds: f64) -> f32 {
        let n = self.probability.len();
        if n == 0 {
            return 0.0;
        }
        let pos = (seconds - self.window_seconds / 2.0) / self.hop_seconds;
        if pos <= 0.0 {
            return self.probability[0];
        }
        let i = pos.floor() as usize;
        if i + 1 >= n {
            return self.probability[n - 1];
        }
        let f = (pos - i as f64) as f32;
        self.probability[i] * (1.0 - f) + self.probability[i + 1] * f
    }
}

/// The VAD's input for frames `from..to` of `mono`: power spectra, bin-major (513 × frames).
fn power(mono: &[f32], g: &Geometry, fft: &mut Fft, from: usize, to: usize) -> Vec<f32> {
    let window = hann(g.vad_window);
    let norm = window
        .iter()
        .map(|&w| w as f64)
        .sum::<f64>()
        .powi(2)
        .max(1e-30);
    let frames = to - from;
    let bins = g.full_bins().min(VAD_BINS);
    let mut out = vec![0.0f32; VAD_BINS * frames];
    let mut spectrum = fft.spectrum();
    for (j, k) in (from..to).enumerate() {
        fft.analyse(mono, (k * g.vad_hop) as isize, &window, &mut spectrum);
        for (b, c) in spectrum.iter().take(bins).enumerate() {
            out[b * frames + j] = (c.norm_sqr() as f64 / norm) as f32;
        }
    }
    out
}

/// The vocal activity of `mono` at `rate`, with progress as a share of the frames done.
pub fn detect(
    model: &VadModel,
    mono: &[f32],
    rate: u32,
    progress: &mut dyn FnMut(f32),
) -> Result<VocalActivity, automix_inference::ModelError> {
    let g = Geometry::at(rate);
    let total = g.vad_frames(mono.len());
    let mut fft = Fft::new(g.fft);
    let mut probability = Vec::with_capacity(total);
    let mut start = 0;
    while start < total {
        let end = (start + CHUNK).min(total);
        let from = start.saturating_sub(model.context);
        let to = (end + model.context).min(total);
        let input = power(mono, &g, &mut fft, from, to);
        let frames = to - from;
        let silent: Vec<bool> = (start - from..end - from)
            .map(|j| {
                (0..VAD_BINS)
                    .map(|b| input[b * frames + j] as f64)
                    .sum::<f64>()
                    < SILENCE_POWER
            })
            .collect();
        let p = model.run(frames, input)?;
        probability.extend(
            p[start - from..end - from]
                .iter()
                .zip(silent)
                .map(|(&p, quiet)| if quiet { 0.0 } else { p }),
        );
        start = end;
        progress(start as f32 / total as f32);
    }
    Ok(VocalActivity {
        probability,
        threshold: model.threshold,
        hop_seconds: g.vad_hop as f64 / rate as f64,
        window_seconds: g.vad_window as f64 / rate as f64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::SeparationModels;

    /// A song longer than one chunk: the chunked answer must be the one-pass answer, which it is
    /// only when the chunks' margins hold the model's whole context.
    #[test]
    fn chunks_give_what_one_pass_over_the_song_gives() {
        let Some(model) = SeparationModels::shared_vad().vad.as_ref() else {
            panic!("the built-in VAD did not load");
        };
        let rate = 16_000;
        let seconds = 50;
        let mono: Vec<f32> = (0..rate * seconds)
            .map(|i| {
                let t = i as f32 / rate as f32;
                // a sung-like tone that comes and goes, over noise
                let on = ((t * 0.7).sin() > 0.0) as u8 as f32;
                let noise = ((i as f32 * 12.9898).sin() * 43758.547).fract() - 0.5;
                on * 0.3
                    * (2.0 * std::f32::consts::PI * 220.0 * t * (1.0 + 0.01 * (5.0 * t).sin()))
                        .sin()
                    + 0.05 * noise
            })
            .collect();
        let chunked = detect(model, &mono, rate as u32, &mut |_| {}).unwrap();
        let g = Geometry::at(rate as u32);
        let total = g.vad_frames(mono.len());
        assert!(
            total > CHUNK + 2 * model.context,
            "the song spans more than one chunk"
        );
        let whole = model
            .run(total, power(&mono, &g, &mut Fft::new(g.fft), 0, total))
            .unwrap();
        let worst = chunked
            .probability
            .iter()
            .zip(&whole)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(
            worst < 1e-4,
            "chunked and one-pass probabilities differ by {worst}"
        );
    }
}
