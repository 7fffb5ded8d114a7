//! Singing-voice separation (seed 003's U-Net, informed of vocal activity as in seed 004): a
//! song in, its vocal and its accompaniment out, at the song's rate and channel count.
//!
//! The mono downmix's magnitude spectrum (0–8 kHz, [`frames`]) goes to the separator in patches
//! of 128 frames (2 s) that overlap by 16 and are cross-faded; with an informed separator the
//! VAD's per-frame activity goes with it. The mask it gives applies to every channel's full-rate
//! spectrum: bin for bin up to 8 kHz, and above, where the model never looked, each frame's mean
//! 4–8 kHz mask (a vocal's air and sibilance come and go with its upper formants; leaving the
//! top octaves wholly to the backing would dull every vocal and leave its consonants behind).
//! The accompaniment is the input minus the vocal, so the two always sum to the input.

pub mod frames;
pub mod models;
pub mod vad;

use frames::{BINS, Fft, Geometry, PATCH, PATCH_RAMP, PATCH_STEP, hann};
pub use models::{SeparationModels, SeparatorModel, VadModel};

use crate::vad::VocalActivity;

/// What came out of a separation.
pub struct Separated {
    pub vocal: Vec<Vec<f32>>,
    pub accompaniment: Vec<Vec<f32>>,
    /// The activity the separator was informed of (with an informed separator and a VAD).
    pub activity: Option<VocalActivity>,
    /// What the user should know (a missing VAD, …).
    pub notes: Vec<String>,
}

/// Where the work stands, for a progress bar: (stage, share of it done).
pub type Progress<'a> = &'a mut dyn FnMut(&'static str, f32);

fn patch_weights() -> Vec<f32> {
    (0..PATCH)
        .map(|t| (((t + 1).min(PATCH - t)) as f32 / (PATCH_RAMP + 1) as f32).min(1.0))
        .collect()
}

/// The first frame of each patch covering `frames` frames (as the trainer's evaluation).
pub fn patch_starts(frames: usize) -> Vec<usize> {
    let end = (frames + PATCH_STEP).saturating_sub(PATCH).max(1);
    (0..end).step_by(PATCH_STEP).collect()
}

/// The mono downmix of `channels`, non-finite samples as silence.
pub fn downmix(channels: &[Vec<f32>]) -> Vec<f32> {
    let n = channels.first().map_or(0, Vec::len);
    let scale = 1.0 / channels.len().max(1) as f32;
    (0..n)
        .map(|i| {
            channels
                .iter()
                .map(|c| c[i])
                .filter(|v| v.is_finite())
                .sum::<f32>()
                * scale
        })
        .collect()
}

/// The separator's input magnitudes of `mono`: 512 bins × frames, bin-major, divided by the
/// window's sum (as `spectral.magnitude`).
pub fn magnitudes(mono: &[f32], g: &Geometry) -> Vec<f32> {
    let frames = g.frames(mono.len());
    let window = hann(g.fft);
    let norm = window.iter().sum::<f32>();
    let mut fft = Fft::new(g.fft);
    let mut spectrum = fft.spectrum();
    let bins = g.full_bins().min(BINS);
    let mut out = vec![0.0f32; BINS * frames];
    for t in 0..frames {
        let start = (t * g.hop) as isize - (g.fft / 2) as isize;
        fft.analyse(mono, start, &window, &mut spectrum);
        for (k, c) in spectrum.iter().take(bins).enumerate() {
            out[k * frames + t] = c.norm() / norm;
        }
    }
    out
}

/// The vocal mask (512 × frames, bin-major) for magnitudes `mag` and per-frame `activity`.
/// `progress(share)` returning false stops it with [`SeparationError::Cancelled`].
pub fn mask(
    model: &SeparatorModel,
    mag: &[f32],
    activity: &[f32],
    progress: &mut dyn FnMut(f32) -> bool,
) -> Result<Vec<f32>, SeparationError> {
    let frames = activity.len();
    let starts = patch_starts(frames);
    let weights = patch_weights();
    let mut acc = vec![0.0f32; BINS * frames];
    let mut norm = vec![0.0f32; frames];
    for (done, group) in starts.chunks(models::SEPARATOR_BATCH).enumerate() {
        let mut input = vec![0.0f32; group.len() * models::PATCH_LEN];
        for (p, &s) in group.iter().enumerate() {
            let patch = &mut input[p * models::PATCH_LEN..(p + 1) * models::PATCH_LEN];
            let (m, a) = patch.split_at_mut(BINS * PATCH);
            for t in 0..PATCH.min(frames.saturating_sub(s)) {
                for k in 0..BINS {
                    m[k * PATCH + t] = mag[k * frames + s + t];
                }
                let act = activity[s + t];
                for k in 0..BINS {
                    a[k * PATCH + t] = act;
                }
            }
        }
        let out = model.run(group.len(), input)?;
        for (p, &s) in group.iter().enumerate() {
            let m = &out[p * BINS * PATCH..(p + 1) * BINS * PATCH];
            for t in 0..PATCH.min(frames.saturating_sub(s)) {
                for k in 0..BINS {
                    acc[k * frames + s + t] += m[k * PATCH + t] * weights[t];
                }
                norm[s + t] += weights[t];
            }
        }
        if !progress(
            ((done + 1) * models::SEPARATOR_BATCH).min(starts.len()) as f32 / starts.len() as f32,
        ) {
            return Err(SeparationError::Cancelled);
        }
    }
    for k in 0..BINS {
        for t in 0..frames {
            acc[k * frames + t] /= norm[t].max(1e-12);
        }
    }
    Ok(acc)
}

/// `signal` with `mask` (512 × frames, bin-major) applied to its full-rate spectrum, above
/// 8 kHz each frame's mean 4–8 kHz mask; weighted overlap-add, as `torch.istft`.
pub fn apply_mask(signal: &[f32], mask: &[f32], g: &Geometry) -> Vec<f32> {
    let frames = g.frames(signal.len());
    let window = hann(g.fft);
    let mut fft = Fft::new(g.fft);
    let mut spectrum = fft.spectrum();
    let half = g.fft / 2;
    let mut out = vec![0.0f32; signal.len() + g.fft];
    let mut envelope = vec![0.0f32; signal.len() + g.fft];
    let scale = 1.0 / g.fft as f32;
    for t in 0..frames {
        let start = (t * g.hop) as isize - half as isize;
        fft.analyse(signal, start, &window, &mut spectrum);
        let high = (BINS / 2..BINS).map(|k| mask[k * frames + t]).sum::<f32>() / (BINS / 2) as f32;
        for (k, c) in spectrum.iter_mut().enumerate() {
            *c *= if k < BINS { mask[k * frames + t] } else { high };
        }
        let frame = fft.synthesise(&mut spectrum);
        // out[i] holds sample i - half
        let at = t * g.hop;
        for (i, (v, w)) in frame.iter().zip(&window).enumerate() {
            out[at + i] += v * scale * w;
            envelope[at + i] += w * w;
        }
    }
    (0..signal.len())
        .map(|i| {
            let e = envelope[i + half];
            if e > 1e-9 { out[i + half] / e } else { 0.0 }
        })
        .collect()
}

/// The separator's vocal mask of a mono signal, and what it was made with.
pub struct VocalMask {
    /// 512 bins × frames, bin-major (bin k ≈ k × 15.625 Hz at any rate).
    pub mask: Vec<f32>,
    pub geometry: Geometry,
    pub frames: usize,
    /// The activity the separator was informed of (with an informed separator and a VAD).
    pub activity: Option<VocalActivity>,
    pub notes: Vec<String>,
}

impl VocalMask {
    /// Frame `t`'s mean mask over 4–8 kHz: the mask above 8 kHz, where the model never looked.
    pub fn upper(&self, t: usize) -> f32 {
        (BINS / 2..BINS)
            .map(|k| self.mask[k * self.frames + t])
            .sum::<f32>()
            / (BINS / 2) as f32
    }

    /// The mask at a time (s) and frequency (Hz): the nearest frame and bin, above 8 kHz the
    /// frame's [`VocalMask::upper`] (`upper` holds it for every frame).
    pub fn at(&self, seconds: f64, hz: f64, upper: &[f32]) -> f32 {
        if self.frames == 0 {
            return 0.0;
        }
        let t = ((seconds / self.geometry.frame_seconds()).round().max(0.0) as usize)
            .min(self.frames - 1);
        let k = (hz / (frames::MODEL_RATE / frames::FFT_16K as f64)).round() as usize;
        if k < BINS {
            self.mask[k * self.frames + t]
        } else {
            upper[t]
        }
    }
}

fn check_rate(rate: u32) -> Result<(), SeparationError> {
    if (automix_dsp::chain::MIN_SAMPLE_RATE..=automix_dsp::chain::MAX_SAMPLE_RATE)
        .contains(&(rate as f32))
    {
        Ok(())
    } else {
        Err(SeparationError::BadInput(format!(
            "{rate} Hz is outside the 1 kHz – 768 kHz this separator runs at"
        )))
    }
}

/// Why a separation stopped short.
#[derive(Clone, Debug, PartialEq)]
pub enum SeparationError {
    /// The caller asked it to stop (its progress callback said so, or the cancel flag was set).
    Cancelled,
    /// No separator loaded; `why` is what loading said.
    NoSeparator { why: String },
    /// A model failed while running (a broken or mismatched model).
    Model(automix_inference::ModelError),
    /// Audio that cannot be separated: no channels, channels of different lengths, a rate
    /// outside what the separator runs at.
    BadInput(String),
}

impl std::fmt::Display for SeparationError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SeparationError::Cancelled => write!(f, "cancelled"),
            SeparationError::NoSeparator { why } => write!(
                f,
                "no usable separator ({why}); reinstall Vocal Automix or point VOCAL_AUTOMIX_MODELS at a folder holding separator.onnx"
            ),
            SeparationError::Model(e) => write!(f, "{e}"),
            SeparationError::BadInput(why) => write!(f, "{why}"),
        }
    }
}

impl std::error::Error for SeparationError {}

impl From<automix_inference::ModelError> for SeparationError {
    fn from(e: automix_inference::ModelError) -> Self {
        SeparationError::Model(e)
    }
}

/// For callers that report every failure as a message.
impl From<SeparationError> for String {
    fn from(e: SeparationError) -> Self {
        e.to_string()
    }
}

/// The vocal mask of `mono` at `rate` (the VAD first, for an informed separator). Setting
/// `cancel` stops it between two batches of patches, with [`SeparationError::Cancelled`].
pub fn vocal_mask(
    models: &SeparationModels,
    mono: &[f32],
    rate: u32,
    progress: Progress,
    cancel: Option<&std::sync::atomic::AtomicBool>,
) -> Result<VocalMask, SeparationError> {
    let separator = models
        .separator
        .as_ref()
        .ok_or_else(|| SeparationError::NoSeparator {
            why: models.warnings.join("; "),
        })?;
    check_rate(rate)?;
    let g = Geometry::at(rate);
    let frames = g.frames(mono.len());
    let mut notes = Vec::new();
    let mut activity = None;
    let act: Vec<f32> = if separator.informed {
        match &models.vad {
            Some(vad_model) => {
                let a = vad::detect(vad_model, mono, rate, &mut |f| {
                    progress("vocal activity", f)
                })?;
                // the separator learnt from 0/1 labels: it gets the VAD's decisions
                let v = (0..frames)
                    .map(|t| (a.at(t as f64 * g.frame_seconds()) >= a.threshold) as u8 as f32)
                    .collect();
                activity = Some(a);
                v
            }
            None => {
                notes.push("no usable VAD: the separator is told the voice sings throughout (separation is less clean between phrases)".into());
                vec![1.0; frames]
            }
        }
    } else {
        vec![0.0; frames]
    };
    progress("spectrum", 0.0);
    let mag = magnitudes(mono, &g);
    let cancelled = || cancel.is_some_and(|c| c.load(std::sync::atomic::Ordering::Relaxed));
    let mask = mask(separator, &mag, &act, &mut |f| {
        progress("separating", f);
        !cancelled()
    })?;
    Ok(VocalMask {
        mask,
        geometry: g,
        frames,
        activity,
        notes,
    })
}

/// Separates `channels` (equal lengths) at `rate` into vocal and accompaniment. The channels'
/// buffers become the accompaniment (a long song is not held three times over).
pub fn separate(
    models: &SeparationModels,
    mut channels: Vec<Vec<f32>>,
    rate: u32,
    progress: Progress,
) -> Result<Separated, SeparationError> {
    if models.separator.is_none() {
        return Err(SeparationError::NoSeparator {
            why: models.warnings.join("; "),
        });
    }
    if channels.is_empty() {
        return Err(SeparationError::BadInput(
            "no audio channels to separate".into(),
        ));
    }
    let len = channels[0].len();
    if channels.iter().any(|c| c.len() != len) {
        return Err(SeparationError::BadInput(
            "the channels differ in length".into(),
        ));
    }
    check_rate(rate)?;
    let mono = downmix(&channels);
    let m = vocal_mask(models, &mono, rate, progress, None)?;
    drop(mono);
    let mut vocal = Vec::with_capacity(channels.len());
    let count = channels.len();
    for (i, c) in channels.iter_mut().enumerate() {
        let v = apply_mask(c, &m.mask, &m.geometry);
        for (x, v) in c.iter_mut().zip(&v) {
            *x = if x.is_finite() { *x - v } else { -v };
        }
        vocal.push(v);
        progress("resynthesis", (i + 1) as f32 / count as f32);
    }
    Ok(Separated {
        vocal,
        accompaniment: channels,
        activity: m.activity,
        notes: m.notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mask_of_ones_gives_back_the_signal_and_zeros_give_silence() {
        for rate in [8000, 16_000, 44_100, 48_000] {
            let g = Geometry::at(rate);
            let x: Vec<f32> = (0..rate as usize / 3)
                .map(|i| ((i as f32 * 0.013).sin() + (i as f32 * 0.31).cos() * 0.3) * 0.5)
                .collect();
            let frames = g.frames(x.len());
            let ones = apply_mask(&x, &vec![1.0; BINS * frames], &g);
            let err = x
                .iter()
                .zip(&ones)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f32::max);
            assert!(err < 1e-4, "{rate} Hz: {err}");
            let zeros = apply_mask(&x, &vec![0.0; BINS * frames], &g);
            assert!(zeros.iter().all(|v| v.abs() < 1e-6), "{rate} Hz");
        }
    }

    /// Above 8 kHz the mask is each frame's mean 4–8 kHz mask: a 12 kHz tone follows the upper
    /// band's decision, whatever the mask says below 4 kHz.
    #[test]
    fn the_top_octaves_follow_the_mask_of_the_octave_below() {
        let rate = 44_100;
        let g = Geometry::at(rate);
        let x: Vec<f32> = (0..rate as usize / 2)
            .map(|i| (i as f32 * 12_000.0 / rate as f32 * std::f32::consts::TAU).sin() * 0.5)
            .collect();
        let frames = g.frames(x.len());
        for (upper, lower, want) in [(1.0, 0.0, 1.0), (0.0, 1.0, 0.0), (0.5, 0.0, 0.5)] {
            let mut m = vec![lower; BINS * frames];
            m[BINS / 2 * frames..].fill(upper);
            let y = apply_mask(&x, &m, &g);
            let mid = x.len() / 4..3 * x.len() / 4;
            let ratio = (y[mid.clone()].iter().map(|v| v * v).sum::<f32>()
                / x[mid].iter().map(|v| v * v).sum::<f32>())
            .sqrt();
            assert!((ratio - want).abs() < 0.01, "{upper}/{lower}: {ratio}");
        }
    }

    #[test]
    fn patches_cover_every_frame() {
        for frames in [1, 5, 127, 128, 129, 240, 241, 1000] {
            let starts = patch_starts(frames);
            assert_eq!(starts[0], 0);
            assert!(starts.last().unwrap() + PATCH >= frames, "{frames}");
            assert!(starts.windows(2).all(|w| w[1] - w[0] == PATCH_STEP));
        }
    }
}
