//! The two vocal gates ([`automix_assistant::gate`]) against frame labels of vocal activity: which
//! frames each keeps of a vocal as recorded, and of the same vocal with its backing bleeding in.

use serde::Serialize;

use automix_assistant::gate::{loudness_kept, vad_kept};
use automix_assistant::loudness::Blocks;
use automix_assistant::spectrum::{Analyser, FFT, HOP};
use automix_assistant::{ANALYSIS_RATE, Track};
use automix_separation::VadModel;

/// Frames kept and left out against the labels.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Counts {
    /// Kept and sung.
    pub kept_sung: u64,
    /// Kept, not sung.
    pub kept_unsung: u64,
    /// Left out, sung.
    pub dropped_sung: u64,
    pub dropped_unsung: u64,
}

impl Counts {
    /// Of the frames kept, the share that are sung.
    pub fn precision(&self) -> f64 {
        self.kept_sung as f64 / (self.kept_sung + self.kept_unsung).max(1) as f64
    }

    /// Of the sung frames, the share kept.
    pub fn recall(&self) -> f64 {
        self.kept_sung as f64 / (self.kept_sung + self.dropped_sung).max(1) as f64
    }

    pub fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r > 0.0 {
            2.0 * p * r / (p + r)
        } else {
            0.0
        }
    }

    pub fn add(&mut self, o: &Counts) {
        self.kept_sung += o.kept_sung;
        self.kept_unsung += o.kept_unsung;
        self.dropped_sung += o.dropped_sung;
        self.dropped_unsung += o.dropped_unsung;
    }
}

/// Labels: one per `label_hop` seconds, each for a `label_window` frame starting at its hop.
pub struct Labels<'a> {
    pub values: &'a [f32],
    pub hop: f64,
    pub window: f64,
}

/// (loudness gate, VAD gate) of `vocal` (mono at `rate`, the backing's bleed already in it)
/// against `labels`. Each label frame is judged by the analysis frame nearest its centre.
pub fn clip(
    vocal: &[f32],
    rate: u32,
    labels: &Labels,
    model: &VadModel,
) -> Result<(Counts, Counts), String> {
    let track = Track::from_channels(&[vocal.to_vec()], rate)?;
    let frames = Analyser::new(ANALYSIS_RATE).frames(&track.mono, false);
    let Some(lufs) = Blocks::of_mono(&track.mono, ANALYSIS_RATE).integrated() else {
        return Ok((Counts::default(), Counts::default()));
    };
    let mut by_loudness = vec![false; frames.len()];
    for i in loudness_kept(&frames, lufs) {
        by_loudness[i] = true;
    }
    let mut by_vad = vec![false; frames.len()];
    for i in vad_kept(model, &track.mono, frames.len())? {
        by_vad[i] = true;
    }
    let mut counts = (Counts::default(), Counts::default());
    for (j, &label) in labels.values.iter().enumerate() {
        let centre = j as f64 * labels.hop + labels.window / 2.0;
        let i = ((centre * ANALYSIS_RATE as f64 - (FFT / 2) as f64) / HOP as f64).round();
        if i < 0.0 || i as usize >= frames.len() {
            continue;
        }
        let sung = label >= 0.5;
        for (kept, c) in [
            (by_loudness[i as usize], &mut counts.0),
            (by_vad[i as usize], &mut counts.1),
        ] {
            match (kept, sung) {
                (true, true) => c.kept_sung += 1,
                (true, false) => c.kept_unsung += 1,
                (false, true) => c.dropped_sung += 1,
                (false, false) => c.dropped_unsung += 1,
            }
        }
    }
    Ok(counts)
}
