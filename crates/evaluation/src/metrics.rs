//! How far a processed vocal is from the professional's, as it plays in the mix: level (BS.1770
//! integrated), tone (long-term octave-band balance at matched loudness) and loudness range (EBU
//! Tech 3342).

use automix_assistant::loudness::{BlockMeter, Blocks};
use automix_assistant::masking_eq;
use automix_assistant::spectrum::{Analyser, Frames};

/// Frames more than this under the professional vocal's loudness are left out of the tone
/// measure (the analysis's own vocal-activity gate): breaths and bleed between phrases would
/// otherwise weigh as much as the singing.
pub const TONE_GATE_LU: f64 = automix_assistant::GATE_RELATIVE_LU;

/// A stereo signal.
#[derive(Clone, Debug, Default)]
pub struct Stereo {
    pub left: Vec<f32>,
    pub right: Vec<f32>,
}

impl Stereo {
    pub fn len(&self) -> usize {
        self.left.len()
    }

    pub fn is_empty(&self) -> bool {
        self.left.is_empty()
    }

    /// The mid signal, (left + right) / 2.
    pub fn mid(&self) -> Vec<f32> {
        self.left
            .iter()
            .zip(&self.right)
            .map(|(a, b)| 0.5 * (a + b))
            .collect()
    }

    /// Both channels scaled by `db`.
    pub fn gained(&self, db: f64) -> Stereo {
        let g = 10f64.powf(db / 20.0) as f32;
        Stereo {
            left: self.left.iter().map(|x| x * g).collect(),
            right: self.right.iter().map(|x| x * g).collect(),
        }
    }

    fn interleaved(&self) -> Vec<f32> {
        self.left
            .iter()
            .zip(&self.right)
            .flat_map(|(l, r)| [*l, *r])
            .collect()
    }

    /// 100 ms loudness blocks as the two channels play.
    pub fn blocks(&self, sample_rate: u32) -> Blocks {
        let mut m = BlockMeter::new(sample_rate, 2);
        m.push_interleaved(&self.interleaved());
        m.finish()
    }
}

/// What the metrics compare with, measured once per song: the professional vocal.
pub struct Measured {
    pub lufs: Option<f64>,
    pub lra: Option<f64>,
    /// Octave-band levels over the gated frames, dB.
    pub bands: Option<[f64; 9]>,
}

/// The frames of a stereo signal: both channels' band powers summed per frame, and the mid
/// signal's frame loudness for the gate.
struct StereoFrames {
    bands: Vec<[f64; 9]>,
    loudness: Vec<f32>,
}

fn stereo_frames(analyser: &mut Analyser, s: &Stereo) -> StereoFrames {
    let l: Frames = analyser.frames(&s.left, false);
    let r: Frames = analyser.frames(&s.right, false);
    let m = analyser.frames(&s.mid(), false);
    StereoFrames {
        bands: l
            .bands
            .iter()
            .zip(&r.bands)
            .map(|(a, b)| std::array::from_fn(|i| a[i] as f64 + b[i] as f64))
            .collect(),
        loudness: m.loudness,
    }
}

/// The tone measure's frames of a song: where the professional vocal sings.
pub struct ToneGate {
    kept: Vec<usize>,
}

impl ToneGate {
    pub fn of(professional: &Stereo, sample_rate: u32) -> ToneGate {
        let mut a = Analyser::new(sample_rate);
        let f = stereo_frames(&mut a, professional);
        let lufs = professional.blocks(sample_rate).integrated();
        let kept = match lufs {
            Some(l) => (0..f.loudness.len())
                .filter(|&i| f.loudness[i] as f64 >= l + TONE_GATE_LU)
                .collect(),
            None => Vec::new(),
        };
        ToneGate { kept }
    }

    pub fn frames(&self) -> usize {
        self.kept.len()
    }

    /// Octave-band levels (dB) of `s` over the kept frames.
    pub fn bands(&self, s: &Stereo, sample_rate: u32) -> Option<[f64; 9]> {
        let mut a = Analyser::new(sample_rate);
        let f = stereo_frames(&mut a, s);
        let kept: Vec<usize> = self
            .kept
            .iter()
            .copied()
            .filter(|&i| i < f.bands.len())
            .collect();
        if kept.is_empty() {
            return None;
        }
        let mut sum = [0.0f64; 9];
        for &i in &kept {
            for (s, p) in sum.iter_mut().zip(f.bands[i]) {
                *s += p;
            }
        }
        Some(masking_eq::band_db(&sum.map(|s| s / kept.len() as f64)))
    }
}

pub fn measure(s: &Stereo, sample_rate: u32, gate: &ToneGate) -> Measured {
    let blocks = s.blocks(sample_rate);
    Measured {
        lufs: blocks.integrated(),
        lra: blocks.loudness_range(),
        bands: gate.bands(s, sample_rate),
    }
}

/// The three errors of a processed vocal against the professional's.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Errors {
    /// |(processed − accompaniment) − (professional − accompaniment)|, LU.
    pub level_lu: f64,
    /// Mean |octave-band difference|, 63 Hz … 16 kHz, at matched loudness, dB.
    pub tone_db: f64,
    /// |LRA processed − LRA professional|, LU.
    pub lra_lu: f64,
}

impl Errors {
    pub const NAMES: [&'static str; 3] = ["level", "tone", "LRA"];

    pub fn values(&self) -> [f64; 3] {
        [self.level_lu, self.tone_db, self.lra_lu]
    }

    pub fn mean(all: &[Errors]) -> Errors {
        let n = all.len().max(1) as f64;
        Errors {
            level_lu: all.iter().map(|e| e.level_lu).sum::<f64>() / n,
            tone_db: all.iter().map(|e| e.tone_db).sum::<f64>() / n,
            lra_lu: all.iter().map(|e| e.lra_lu).sum::<f64>() / n,
        }
    }
}

/// The tone error between two band sets at loudnesses `a_lufs`, `b_lufs` (matched first).
pub fn tone_error(a: &[f64; 9], a_lufs: f64, b: &[f64; 9], b_lufs: f64) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| ((x - a_lufs) - (y - b_lufs)).abs())
        .sum::<f64>()
        / 9.0
}

/// `processed` against `professional`; `None` when either is silent.
pub fn errors(processed: &Measured, professional: &Measured) -> Option<Errors> {
    let (pl, ql) = (processed.lufs?, professional.lufs?);
    let tone = match (&processed.bands, &professional.bands) {
        (Some(a), Some(b)) => tone_error(a, pl, b, ql),
        _ => return None,
    };
    let lra = match (processed.lra, professional.lra) {
        (Some(a), Some(b)) => (a - b).abs(),
        _ => 0.0,
    };
    Some(Errors {
        level_lu: (pl - ql).abs(),
        tone_db: tone,
        lra_lu: lra,
    })
}
