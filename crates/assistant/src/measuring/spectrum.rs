//! Short-time spectra of the analysis signals (44.1 kHz mono): FFT 2048, hop 1024, a Hann window,
//! frames starting at sample 0 with no padding (frame `i` covers `i·1024 .. i·1024 + 2048`).
//!
//! One pass per signal yields what the rules and the CNN need from each frame, so no spectrogram
//! is ever stored whole: the power in the nine EQ octave bands, the frame's K-weighted loudness
//! (for the vocal-activity gate), and, when asked for, the 128 mel bands.

use std::sync::Arc;

use realfft::num_complex::Complex;
use realfft::{RealFftPlanner, RealToComplex};

use crate::loudness::{KWeighting, lufs};
use crate::mel::MelBank;
use automix_dsp::params::EQ_BANDS;

/// Receives a frame's index, its power spectrum and the K-weighting's power gain per bin.
pub type PowerVisitor<'a> = dyn FnMut(usize, &[f32], &[f32]) + 'a;

pub const FFT: usize = 2048;
pub const HOP: usize = 1024;
pub const BINS: usize = FFT / 2 + 1;

/// What one frame of a signal gave.
#[derive(Clone, Debug, Default)]
pub struct Frames {
    /// Mean-square power in each EQ octave band (band edges `fc/√2 … fc·√2`), per frame. The
    /// 63 Hz band holds only two bins, narrower than the window's main lobe: a tone there reads
    /// about 1 dB low (the rule compares the two signals, which share the error).
    pub bands: Vec<[f32; 9]>,
    /// K-weighted loudness of each frame, LUFS (−∞ for digital silence).
    pub loudness: Vec<f32>,
    /// Mel power spectra, when requested.
    pub mel: Option<Vec<[f32; crate::mel::MELS]>>,
}

impl Frames {
    pub fn len(&self) -> usize {
        self.loudness.len()
    }

    pub fn is_empty(&self) -> bool {
        self.loudness.is_empty()
    }
}

/// Number of whole frames in `len` samples.
pub fn frame_count(len: usize) -> usize {
    if len < FFT { 0 } else { (len - FFT) / HOP + 1 }
}

/// The frame analyser: window, FFT plan and per-bin weights, made once and reused.
pub struct Analyser {
    sample_rate: f64,
    fft: Arc<dyn RealToComplex<f32>>,
    window: Vec<f32>,
    /// Turns the windowed frame's |X|² into the frame's mean square (Parseval with the window).
    norm: f64,
    k_weight: Vec<f32>,
    /// The bins of each octave band (contiguous).
    band_bins: [std::ops::Range<usize>; 9],
    mel: MelBank,
    input: Vec<f32>,
    spectrum: Vec<Complex<f32>>,
    scratch: Vec<Complex<f32>>,
    power: Vec<f32>,
}

impl Analyser {
    pub fn new(sample_rate: u32) -> Self {
        let sr = sample_rate as f64;
        let fft = RealFftPlanner::<f32>::new().plan_fft_forward(FFT);
        // periodic Hann
        let window: Vec<f32> = (0..FFT)
            .map(|i| (0.5 - 0.5 * (std::f64::consts::TAU * i as f64 / FFT as f64).cos()) as f32)
            .collect();
        let window_energy: f64 = window.iter().map(|w| (*w as f64).powi(2)).sum();
        let k = KWeighting::new(sr);
        let k_weight = (0..BINS)
            .map(|b| k.power_gain(b as f64 * sr / FFT as f64, sr) as f32)
            .collect();
        let band_bins = EQ_BANDS.map(|(fc, _, _)| {
            let bin = |f: f64| ((f * FFT as f64 / sr).ceil() as usize).min(BINS);
            let fc = fc as f64;
            bin(fc / 2f64.sqrt())..bin(fc * 2f64.sqrt())
        });
        Analyser {
            sample_rate: sr,
            scratch: fft.make_scratch_vec(),
            spectrum: fft.make_output_vec(),
            input: fft.make_input_vec(),
            fft,
            window,
            norm: 1.0 / (FFT as f64 * window_energy),
            k_weight,
            band_bins,
            mel: MelBank::new(sample_rate, FFT),
            power: vec![0.0; BINS],
        }
    }

    pub fn sample_rate(&self) -> f64 {
        self.sample_rate
    }

    /// The one-sided power spectrum of one frame of [`FFT`] samples into `self.power`.
    fn power_of(&mut self, frame: &[f32]) {
        for ((d, &x), &w) in self.input.iter_mut().zip(frame).zip(&self.window) {
            *d = x * w;
        }
        self.fft
            .process_with_scratch(&mut self.input, &mut self.spectrum, &mut self.scratch)
            .expect("buffers sized by the plan");
        // one-sided power: the bins between DC and Nyquist stand for two
        let norm = self.norm as f32;
        for (p, c) in self.power.iter_mut().zip(&self.spectrum) {
            *p = 2.0 * norm * c.norm_sqr();
        }
        self.power[0] *= 0.5;
        self.power[BINS - 1] *= 0.5;
    }

    /// Hands every whole frame's power spectrum and the K-weighting's power gain per bin to
    /// `visit(frame, power, k_weight)`: for measures that weigh one pass several ways.
    pub fn visit_power(&mut self, signal: &[f32], visit: &mut PowerVisitor) {
        for i in 0..frame_count(signal.len()) {
            self.power_of(&signal[i * HOP..i * HOP + FFT]);
            visit(i, &self.power, &self.k_weight);
        }
    }

    /// Analyses every whole frame of `signal`; `mel` adds the mel spectra.
    pub fn frames(&mut self, signal: &[f32], mel: bool) -> Frames {
        self.frames_with(signal, mel, &mut |_, _| {})
    }

    /// As [`Analyser::frames`], each frame's power spectrum (one-sided, [`BINS`] bins of
    /// `sample_rate / FFT` Hz) first scaled by `weight(frame, power)`: a soft mask's share of
    /// the signal, measured without resynthesising it.
    pub fn frames_with(
        &mut self,
        signal: &[f32],
        mel: bool,
        weight: &mut dyn FnMut(usize, &mut [f32]),
    ) -> Frames {
        let n = frame_count(signal.len());
        let mut out = Frames {
            bands: Vec::with_capacity(n),
            loudness: Vec::with_capacity(n),
            mel: mel.then(|| Vec::with_capacity(n)),
        };
        for i in 0..n {
            self.power_of(&signal[i * HOP..i * HOP + FFT]);
            weight(i, &mut self.power);
            let bands = self
                .band_bins
                .clone()
                .map(|r| self.power[r].iter().sum::<f32>());
            let weighted: f32 = self
                .power
                .iter()
                .zip(&self.k_weight)
                .map(|(p, k)| p * k)
                .sum();
            let weighted = weighted as f64;
            out.bands.push(bands);
            out.loudness.push(lufs(weighted) as f32);
            if let Some(m) = out.mel.as_mut() {
                m.push(self.mel.apply(&self.power));
            }
        }
        out
    }
}
