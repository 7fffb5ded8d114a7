//! Deterministic test and demo signals: a sung-sounding vocal line and noise.
//!
//! Tests must not depend on audio that may be absent, and the demo must need no input, so both
//! synthesise. Everything here is a pure function of its arguments (own PRNG, no clock).

use std::f32::consts::TAU;

/// xorshift64*: small, fast and the same everywhere.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in [0, 1).
    pub fn uniform(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32
    }

    /// Uniform in [−1, 1).
    pub fn bipolar(&mut self) -> f32 {
        2.0 * self.uniform() - 1.0
    }
}

/// A sung line: notes of a minor pentatonic melody with vibrato, a voice-like harmonic spectrum
/// with two formants, breath noise, syllable envelopes and rests. Peaks near `peak` (linear).
pub fn vocal_line(sample_rate: f32, seconds: f32, peak: f32, seed: u64) -> Vec<f32> {
    let n = (seconds * sample_rate) as usize;
    let mut out = vec![0.0f32; n];
    let mut rng = Rng::new(seed);
    let scale = [0, 3, 5, 7, 10, 12];
    let mut t0 = 0usize;
    let mut phase = 0.0f32;
    while t0 < n {
        let note_len = ((0.25 + 0.5 * rng.uniform()) * sample_rate) as usize;
        let rest = rng.uniform() < 0.2;
        let semis = scale[(rng.next_u64() % scale.len() as u64) as usize] as f32;
        let f0 = 196.0 * 2f32.powf(semis / 12.0);
        let loud = 0.5 + 0.5 * rng.uniform();
        let end = (t0 + note_len).min(n);
        if !rest {
            // Harmonic amplitudes per note: glottal roll-off with formants near 700 Hz and 2.6 kHz.
            let mut amp = [0.0f32; 24];
            for (h, a) in amp.iter_mut().enumerate() {
                let f = f0 * (h + 1) as f32;
                if f < 0.45 * sample_rate {
                    let formant = 1.0
                        + 3.0 * (-((f - 700.0) / 250.0).powi(2)).exp()
                        + 2.0 * (-((f - 2600.0) / 500.0).powi(2)).exp();
                    *a = formant / (h + 1) as f32;
                }
            }
            let len_s = note_len as f32 / sample_rate;
            for (k, y) in out[t0..end].iter_mut().enumerate() {
                let t = k as f32 / sample_rate;
                let env = (t / 0.03).min(1.0) * ((len_s - t) / 0.06).clamp(0.0, 1.0);
                let vib = 1.0 + 0.012 * (TAU * 5.5 * t).sin() * (t / 0.2).min(1.0);
                phase = (phase + f0 * vib / sample_rate).fract();
                // Harmonics by the Chebyshev recurrence: one sine and one cosine per sample.
                let (s1, c1) = (TAU * phase).sin_cos();
                let (mut s_prev, mut s_cur) = (0.0f32, s1);
                let mut v = 0.0;
                for a in amp {
                    v += a * s_cur;
                    let s_next = 2.0 * c1 * s_cur - s_prev;
                    s_prev = s_cur;
                    s_cur = s_next;
                }
                let breath = 0.03 * rng.bipolar();
                *y = env * loud * (0.25 * v + breath);
            }
        }
        t0 = end;
    }
    let max = out.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    if max > 0.0 {
        out.iter_mut().for_each(|v| *v *= peak / max);
    }
    out
}

/// A backing track: kick, snare and hi-hats on a 4/4 groove, a bass line and sustained chords in
/// A minor, at `bpm`. Stereo (hats and chords spread), peaking near `peak`.
pub fn backing_track(
    sample_rate: f32,
    seconds: f32,
    bpm: f32,
    peak: f32,
    seed: u64,
) -> [Vec<f32>; 2] {
    let n = (seconds * sample_rate) as usize;
    let (mut l, mut r) = (vec![0.0f32; n], vec![0.0f32; n]);
    let mut rng = Rng::new(seed);
    let beat = 60.0 / bpm;
    let sixteenth = (beat / 4.0 * sample_rate) as usize;
    let add = |buf: &mut Vec<f32>, start: usize, sound: &[f32], gain: f32| {
        for (o, s) in buf[start.min(n)..].iter_mut().zip(sound) {
            *o += gain * s;
        }
    };
    let kick: Vec<f32> = (0..(0.35 * sample_rate) as usize)
        .scan(0.0f32, |phase, i| {
            let t = i as f32 / sample_rate;
            *phase += (45.0 + 110.0 * (-t / 0.03).exp()) / sample_rate;
            Some((TAU * *phase).sin() * (-t / 0.12).exp())
        })
        .collect();
    let noise_hit = |rng: &mut Rng, len_s: f32, decay: f32, bright: bool| -> Vec<f32> {
        let mut prev = 0.0f32;
        (0..(len_s * sample_rate) as usize)
            .map(|i| {
                let w = rng.bipolar();
                // a first difference tilts the noise up for hats
                let v = if bright { w - prev } else { w };
                prev = w;
                v * (-(i as f32 / sample_rate) / decay).exp()
            })
            .collect()
    };
    let steps = n / sixteenth;
    for s in 0..steps {
        let at = s * sixteenth;
        if s % 8 == 0 || s % 16 == 10 {
            add(&mut l, at, &kick, 0.9);
            add(&mut r, at, &kick, 0.9);
        }
        if s % 8 == 4 {
            let snare = noise_hit(&mut rng, 0.2, 0.05, false);
            add(&mut l, at, &snare, 0.35);
            add(&mut r, at, &snare, 0.35);
        }
        if s % 2 == 0 {
            let hat = noise_hit(&mut rng, 0.05, 0.012, true);
            add(&mut l, at, &hat, 0.10);
            add(&mut r, at, &hat, 0.16);
        }
    }
    // A minor – F – C – G, one bar each: bass roots and three-note chords
    let progression: [(f32, [f32; 3]); 4] = [
        (110.0, [220.0, 261.63, 329.63]),
        (87.31, [174.61, 220.0, 261.63]),
        (130.81, [261.63, 329.63, 392.0]),
        (98.0, [196.0, 246.94, 293.66]),
    ];
    let bar = (4.0 * beat * sample_rate) as usize;
    for i in 0..n {
        let (root, chord) = progression[(i / bar) % 4];
        let t_bar = (i % bar) as f32 / sample_rate;
        let t = i as f32 / sample_rate;
        let eighth = (t_bar / (beat / 2.0)).fract() * beat / 2.0;
        let bass = (TAU * root * t).sin() * (-eighth / 0.25).exp() * 0.35;
        let pad_env = (t_bar / 0.3).min(1.0) * 0.06;
        let (pl, pr) = (
            chord.iter().map(|f| (TAU * f * t).sin()).sum::<f32>() * pad_env,
            chord
                .iter()
                .map(|f| (TAU * f * 1.003 * t).sin())
                .sum::<f32>()
                * pad_env,
        );
        l[i] += bass + pl;
        r[i] += bass + pr;
    }
    let max = l.iter().chain(r.iter()).fold(0.0f32, |m, v| m.max(v.abs()));
    if max > 0.0 {
        l.iter_mut()
            .chain(r.iter_mut())
            .for_each(|v| *v *= peak / max);
    }
    [l, r]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backing_is_deterministic_stereo_and_scaled() {
        let [l, r] = backing_track(44_100.0, 3.0, 100.0, 0.8, 2);
        assert_eq!(
            [l.clone(), r.clone()],
            backing_track(44_100.0, 3.0, 100.0, 0.8, 2)
        );
        assert_ne!(l, r);
        let peak = l.iter().chain(&r).fold(0.0f32, |m, v| m.max(v.abs()));
        assert!((peak - 0.8).abs() < 1e-6);
    }

    #[test]
    fn signals_are_deterministic_and_scaled() {
        let a = vocal_line(44_100.0, 2.0, 0.5, 7);
        assert_eq!(a, vocal_line(44_100.0, 2.0, 0.5, 7));
        assert_ne!(a, vocal_line(44_100.0, 2.0, 0.5, 8));
        let peak = a.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        assert!((peak - 0.5).abs() < 1e-6);
    }
}
