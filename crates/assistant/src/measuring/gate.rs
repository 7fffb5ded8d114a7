//! Which of the vocal's analysis frames the spectral rules look at: those within 20 LU of its
//! integrated loudness (Tech 3342's relative gate, the research's choice), or those the
//! vocal-activity detector hears singing in — which keeps a karaoke take's backing bleed, its
//! breaths and its room out of the vocal's spectrum, where the loudness gate lets through
//! anything less than 20 LU down. docs/assistant.md compares the two on MIR-1K's labels.

use crate::spectrum::{FFT, Frames, HOP};
use crate::suggestion::GateKind;
use crate::track::ANALYSIS_RATE;
use automix_separation::vad;
use automix_separation::{SeparationModels, VadModel};

/// The detector the `kind` of gate asks for: the shared built-in (or the user's) VAD for
/// [`GateKind::Vad`], none for the loudness gate. When the VAD was asked for and cannot load, the
/// second value says so (the analysis then falls back to the loudness gate).
pub fn detector(kind: GateKind) -> (Option<&'static VadModel>, Option<String>) {
    match kind {
        GateKind::Vad => {
            let models = SeparationModels::shared_vad();
            let missing = models.vad.is_none().then(|| {
                format!(
                    "no usable vocal-activity detector ({}): the loudness gate is used",
                    models.warnings.join("; ")
                )
            });
            (models.vad.as_ref(), missing)
        }
        GateKind::Loudness => (None, None),
    }
}

/// The frames of `frames` (a vocal at the analysis rate whose integrated loudness is `lufs`)
/// within [`crate::GATE_RELATIVE_LU`] of it.
pub fn loudness_kept(frames: &Frames, lufs: f64) -> Vec<usize> {
    let threshold = lufs + crate::GATE_RELATIVE_LU;
    (0..frames.len())
        .filter(|&i| frames.loudness[i] as f64 >= threshold)
        .collect()
}

/// The time at the centre of analysis frame `i`, seconds.
pub fn frame_centre(i: usize) -> f64 {
    (i * HOP + FFT / 2) as f64 / ANALYSIS_RATE as f64
}

/// The first `count` analysis frames of `mono` (a vocal track at the analysis rate) in which
/// `model` hears singing, at its vocal-track threshold.
pub fn vad_kept(model: &VadModel, mono: &[f32], count: usize) -> Result<Vec<usize>, String> {
    let activity = vad::detect(model, mono, ANALYSIS_RATE, &mut |_| {})?;
    Ok((0..count)
        .filter(|&i| activity.at(frame_centre(i)) >= model.gate_threshold)
        .collect())
}
