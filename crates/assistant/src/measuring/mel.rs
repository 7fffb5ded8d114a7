//! A mel filter bank: 128 triangular bands from 0 Hz to Nyquist on the Slaney mel scale (linear
//! below 1 kHz, logarithmic above), each normalised to unit area — the convention of librosa's
//! default `mel` filters, which the research's features were computed with.

pub const MELS: usize = 128;

/// Hz → mel (Slaney / Auditory Toolbox).
pub fn hz_to_mel(hz: f64) -> f64 {
    let (f_sp, min_log_hz) = (200.0 / 3.0, 1000.0);
    let min_log_mel = min_log_hz / f_sp;
    let log_step = (6.4f64).ln() / 27.0;
    if hz >= min_log_hz {
        min_log_mel + (hz / min_log_hz).ln() / log_step
    } else {
        hz / f_sp
    }
}

/// mel → Hz, the inverse of [`hz_to_mel`].
pub fn mel_to_hz(mel: f64) -> f64 {
    let (f_sp, min_log_hz) = (200.0 / 3.0, 1000.0);
    let min_log_mel = min_log_hz / f_sp;
    let log_step = (6.4f64).ln() / 27.0;
    if mel >= min_log_mel {
        min_log_hz * (log_step * (mel - min_log_mel)).exp()
    } else {
        f_sp * mel
    }
}

/// The bank, stored sparsely: each band's first bin and its weights.
#[derive(Clone, Debug)]
pub struct MelBank {
    bands: Vec<(usize, Vec<f32>)>,
}

impl MelBank {
    pub fn new(sample_rate: u32, fft: usize) -> Self {
        let sr = sample_rate as f64;
        let bins = fft / 2 + 1;
        let top = hz_to_mel(sr / 2.0);
        let edges: Vec<f64> = (0..MELS + 2)
            .map(|i| mel_to_hz(top * i as f64 / (MELS + 1) as f64))
            .collect();
        let bands = (0..MELS)
            .map(|m| {
                let (lo, mid, hi) = (edges[m], edges[m + 1], edges[m + 2]);
                let area = 2.0 / (hi - lo);
                let weights: Vec<(usize, f32)> = (0..bins)
                    .filter_map(|b| {
                        let f = b as f64 * sr / fft as f64;
                        let w = ((f - lo) / (mid - lo)).min((hi - f) / (hi - mid));
                        (w > 0.0).then_some((b, (w * area) as f32))
                    })
                    .collect();
                let start = weights.first().map_or(0, |w| w.0);
                (start, weights.into_iter().map(|w| w.1).collect())
            })
            .collect();
        MelBank { bands }
    }

    /// Mel band powers of a one-sided power spectrum.
    pub fn apply(&self, power: &[f32]) -> [f32; MELS] {
        let mut out = [0.0f32; MELS];
        for (o, (start, w)) in out.iter_mut().zip(&self.bands) {
            *o = w.iter().zip(&power[*start..]).map(|(w, p)| w * p).sum();
        }
        out
    }

    /// Centre frequency of each band, Hz.
    pub fn centres(sample_rate: u32) -> Vec<f64> {
        let top = hz_to_mel(sample_rate as f64 / 2.0);
        (1..=MELS)
            .map(|i| mel_to_hz(top * i as f64 / (MELS + 1) as f64))
            .collect()
    }
}
