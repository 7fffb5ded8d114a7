//! The time-frequency frames the separator and the VAD were trained on
//! (`training/automix_training/separation/spectral.py`), at any sample rate: every length is the
//! 16 kHz one scaled by rate / 16000, so bin k sits at k × 15.625 Hz (within 0.1 %) and frame t
//! at t × 16 ms whatever the rate. The models see 0–8 kHz exactly as they learnt it, and no
//! resampler runs: the mask they give applies to the full-rate spectrum directly. The FFT length
//! is the even length nearest the scaled one whose factors are all 2, 3, 5, 7 or 11 (2822 at
//! 44.1 kHz, a multiple of 83, takes twice as long as 2816): bins then sit within 0.5 % of the
//! model's frequencies.

use std::sync::Arc;

use realfft::num_complex::Complex;
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};

/// The rate the models' lengths are given at.
pub const MODEL_RATE: f64 = 16_000.0;
/// Separator: FFT and window length, hop (at 16 kHz), bins the model sees, frames a patch.
pub const FFT_16K: usize = 1024;
pub const HOP_16K: usize = 256;
pub const BINS: usize = 512;
pub const PATCH: usize = 128;
/// Patches overlap by 16 frames, cross-faded (as the trainer's evaluation runs them).
pub const PATCH_STEP: usize = 112;
pub const PATCH_RAMP: usize = 16;
/// VAD: 40 ms windows every 20 ms (MIR-1K's label frames), in the separator's FFT, 513 bins.
pub const VAD_WINDOW_16K: usize = 640;
pub const VAD_HOP_16K: usize = 320;
pub const VAD_BINS: usize = 513;

fn scaled(len_16k: usize, rate: u32) -> usize {
    ((len_16k as f64 * rate as f64 / MODEL_RATE).round() as usize).max(2)
}

/// The even length nearest `n` (above on a tie) with no prime factor over 11: an even FFT keeps
/// a Nyquist bin, as at 16 kHz, and small factors keep the FFT fast.
fn fast_fft_len(n: usize) -> usize {
    let smooth = |mut m: usize| {
        for p in [2, 3, 5, 7, 11] {
            while m.is_multiple_of(p) {
                m /= p;
            }
        }
        m == 1
    };
    let n = n.max(2);
    (0..)
        .flat_map(|d| [n + d, n.saturating_sub(d)])
        .find(|&m| m >= 2 && m.is_multiple_of(2) && smooth(m))
        .expect("powers of two are smooth")
}

/// The frame lengths at one sample rate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Geometry {
    pub rate: u32,
    pub fft: usize,
    pub hop: usize,
    pub vad_window: usize,
    pub vad_hop: usize,
}

impl Geometry {
    pub fn at(rate: u32) -> Geometry {
        let fft = fast_fft_len(scaled(FFT_16K, rate));
        Geometry {
            rate,
            fft,
            hop: scaled(HOP_16K, rate).max(1),
            vad_window: scaled(VAD_WINDOW_16K, rate).min(fft),
            vad_hop: scaled(VAD_HOP_16K, rate).max(1),
        }
    }

    /// Bins of the full-rate spectrum (fft / 2 + 1).
    pub fn full_bins(&self) -> usize {
        self.fft / 2 + 1
    }

    /// Separator frames of a signal of `samples` (centred frames, as `torch.stft(center=True)`).
    pub fn frames(&self, samples: usize) -> usize {
        samples / self.hop + 1
    }

    /// VAD frames of a signal of `samples`: whole windows only.
    pub fn vad_frames(&self, samples: usize) -> usize {
        if samples < self.vad_window {
            0
        } else {
            (samples - self.vad_window) / self.vad_hop + 1
        }
    }

    /// Seconds from one separator frame to the next.
    pub fn frame_seconds(&self) -> f64 {
        self.hop as f64 / self.rate as f64
    }
}

/// Periodic Hann, as `torch.hann_window(n, periodic=True)`.
pub fn hann(n: usize) -> Vec<f32> {
    (0..n)
        .map(|i| {
            let x = std::f64::consts::PI * i as f64 / n as f64;
            (x.sin() * x.sin()) as f32
        })
        .collect()
}

/// Forward and inverse FFTs of one length with their scratch space.
pub struct Fft {
    pub len: usize,
    forward: Arc<dyn RealToComplex<f32>>,
    inverse: Arc<dyn ComplexToReal<f32>>,
    time: Vec<f32>,
    scratch: Vec<Complex<f32>>,
}

impl Fft {
    pub fn new(len: usize) -> Fft {
        let mut planner = RealFftPlanner::<f32>::new();
        let forward = planner.plan_fft_forward(len);
        let inverse = planner.plan_fft_inverse(len);
        let scratch =
            vec![Complex::default(); forward.get_scratch_len().max(inverse.get_scratch_len())];
        Fft {
            len,
            forward,
            inverse,
            time: vec![0.0; len],
            scratch,
        }
    }

    /// The spectrum of `window` × the signal starting at sample `start` (zeros outside
    /// `signal`), the window at the start of an FFT-long frame.
    pub fn analyse(
        &mut self,
        signal: &[f32],
        start: isize,
        window: &[f32],
        out: &mut [Complex<f32>],
    ) {
        self.time.fill(0.0);
        for (i, (t, w)) in self.time.iter_mut().zip(window).enumerate() {
            let at = start + i as isize;
            if at >= 0 && (at as usize) < signal.len() {
                let v = signal[at as usize];
                // a NaN must not spread over a whole frame of the output
                *t = if v.is_finite() { v * w } else { 0.0 };
            }
        }
        self.forward
            .process_with_scratch(&mut self.time, out, &mut self.scratch)
            .expect("buffer lengths match the plan");
    }

    /// The frame of `spectrum` (unnormalised inverse; `spectrum` is used as scratch).
    pub fn synthesise(&mut self, spectrum: &mut [Complex<f32>]) -> &[f32] {
        // a real signal's spectrum: the DC and Nyquist bins have no imaginary part
        spectrum[0].im = 0.0;
        if let Some(last) = spectrum.last_mut() {
            last.im = 0.0;
        }
        self.inverse
            .process_with_scratch(spectrum, &mut self.time, &mut self.scratch)
            .expect("buffer lengths match the plan");
        &self.time
    }

    pub fn spectrum(&self) -> Vec<Complex<f32>> {
        vec![Complex::default(); self.len / 2 + 1]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bins_sit_at_the_model_frequencies_at_every_rate() {
        for rate in [
            1000, 8000, 16_000, 22_050, 44_100, 48_000, 96_000, 192_000, 768_000,
        ] {
            let g = Geometry::at(rate);
            let spacing = rate as f64 / g.fft as f64;
            assert!(
                (spacing / 15.625 - 1.0).abs() < 0.005,
                "{rate} Hz: {spacing} Hz a bin"
            );
            let frame = g.frame_seconds();
            assert!((frame / 0.016 - 1.0).abs() < 0.04, "{rate} Hz: {frame} s");
        }
        assert_eq!(Geometry::at(16_000).fft, 1024);
        assert_eq!(Geometry::at(48_000).fft, 3072);
        assert_eq!(Geometry::at(44_100).fft, 2816);
    }
}
