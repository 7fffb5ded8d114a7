//! Tempo of a backing track, for the reverb rule when the caller does not know it.
//!
//! Onsets: the spectral flux of log-compressed power (FFT 1024, hop 512 at 44.1 kHz: an
//! 86 Hz envelope), with its local mean removed. Periodicity: the envelope's autocorrelation,
//! scored for each candidate tempo by its comb of the first four beat multiples (linearly
//! interpolated between lags, so the answer is not quantised to whole frames), times a broad
//! preference for tempi near 120 BPM that settles the usual half/double ambiguity the way
//! listeners tap. The confidence is the comb's mean normalised autocorrelation: near 1 for a steady
//! beat, near 0 when nothing repeats.

use realfft::RealFftPlanner;

use automix_dsp::fast_math;

const FFT: usize = 1024;
const HOP: usize = 512;
pub const MIN_BPM: f64 = 60.0;
/// Above this a beat is counted at half speed: faster pulses are nearly always a song's eighth
/// notes (hi-hats), and this range holds hip-hop, pop, dance and drum & bass alike.
pub const MAX_BPM: f64 = 180.0;
/// Where the tempo preference peaks, and its width in octaves.
const PREFERRED_BPM: f64 = 120.0;
const PREFERENCE_OCTAVES: f64 = 1.0;
/// Beat multiples in the comb.
const COMB: usize = 4;
/// Seconds the onset envelope needs to hold a few beats at the slowest tempo.
pub const MIN_SECONDS: f64 = 6.0;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TempoEstimate {
    pub bpm: f64,
    /// 0 (no periodicity found) … 1 (a perfectly steady beat).
    pub confidence: f64,
}

/// The onset-strength envelope of `signal`, one value per hop.
fn onset_envelope(signal: &[f32]) -> Vec<f32> {
    if signal.len() < FFT {
        return Vec::new();
    }
    let frames = (signal.len() - FFT) / HOP + 1;
    let fft = RealFftPlanner::<f32>::new().plan_fft_forward(FFT);
    let window: Vec<f32> = (0..FFT)
        .map(|i| 0.5 - 0.5 * (std::f32::consts::TAU * i as f32 / FFT as f32).cos())
        .collect();
    let (mut input, mut spectrum, mut scratch) = (
        fft.make_input_vec(),
        fft.make_output_vec(),
        fft.make_scratch_vec(),
    );
    let mut previous = vec![0.0f32; FFT / 2 + 1];
    let mut current = vec![0.0f32; FFT / 2 + 1];
    let mut flux = Vec::with_capacity(frames);
    for i in 0..frames {
        let frame = &signal[i * HOP..i * HOP + FFT];
        for ((d, &x), &w) in input.iter_mut().zip(frame).zip(&window) {
            *d = x * w;
        }
        fft.process_with_scratch(&mut input, &mut spectrum, &mut scratch)
            .expect("buffers sized by the plan");
        let mut f = 0.0f32;
        for ((c, p), s) in current.iter_mut().zip(&previous).zip(&spectrum) {
            // log-compressed power (a fast log2: the flux only needs its shape)
            *c = fast_math::log2(1.0 + 1.0e4 * s.norm_sqr());
            f += (*c - p).max(0.0);
        }
        flux.push(if i == 0 { 0.0 } else { f });
        std::mem::swap(&mut previous, &mut current);
    }
    // remove the local mean (about half a second) so that only the pulses remain
    let half = 22;
    let mut prefix = vec![0.0f64; flux.len() + 1];
    for (i, f) in flux.iter().enumerate() {
        prefix[i + 1] = prefix[i] + *f as f64;
    }
    (0..flux.len())
        .map(|i| {
            let (a, b) = (i.saturating_sub(half), (i + half + 1).min(flux.len()));
            flux[i] - ((prefix[b] - prefix[a]) / (b - a) as f64) as f32
        })
        .collect()
}

/// Estimates the tempo of `signal` (mono, `sample_rate` Hz). `None` when the signal is too short
/// ([`MIN_SECONDS`]) or has no onsets at all.
pub fn estimate(signal: &[f32], sample_rate: u32) -> Option<TempoEstimate> {
    if (signal.len() as f64) < MIN_SECONDS * sample_rate as f64 {
        return None;
    }
    let env = onset_envelope(signal);
    let rate = sample_rate as f64 / HOP as f64;
    let max_lag = ((60.0 * rate / MIN_BPM) * COMB as f64).ceil() as usize + 2;
    let max_lag = max_lag.min(env.len().saturating_sub(1));
    let ac: Vec<f64> = (0..=max_lag)
        .map(|lag| {
            env[lag..]
                .iter()
                .zip(&env)
                .map(|(a, b)| (*a as f64) * (*b as f64))
                .sum::<f64>()
                / (env.len() - lag) as f64
        })
        .collect();
    if ac.is_empty() || ac[0] <= 1e-20 {
        return None;
    }
    let at = |lag: f64| -> Option<f64> {
        let i = lag.floor() as usize;
        (i + 1 < ac.len()).then(|| {
            let t = lag - i as f64;
            (ac[i] * (1.0 - t) + ac[i + 1] * t) / ac[0]
        })
    };
    let comb = |bpm: f64| -> Option<f64> {
        let period = 60.0 * rate / bpm;
        let mut sum = 0.0;
        for k in 1..=COMB {
            sum += at(period * k as f64)?;
        }
        Some(sum / COMB as f64)
    };
    let preference = |bpm: f64| {
        let octaves = (bpm / PREFERRED_BPM).log2() / PREFERENCE_OCTAVES;
        (-0.5 * octaves * octaves).exp()
    };
    let mut best: Option<(f64, f64, f64)> = None; // (score, bpm, comb)
    let steps = ((MAX_BPM - MIN_BPM) / 0.05).round() as usize;
    for s in 0..=steps {
        let bpm = MIN_BPM + s as f64 * 0.05;
        let Some(c) = comb(bpm) else { continue };
        let score = c.max(0.0) * preference(bpm);
        if best.is_none_or(|(b, _, _)| score > b) {
            best = Some((score, bpm, c));
        }
    }
    let (score, bpm, c) = best?;
    if score <= 0.0 {
        return None;
    }
    Some(TempoEstimate {
        bpm,
        confidence: c.clamp(0.0, 1.0),
    })
}
