//! The measuring before any decision: both inputs' loudness (and what the user should hear about
//! them), their spectra, and the gate that picks the vocal's frames the rules read.

use crate::loudness::Blocks;
use crate::suggestion::{Gate, GateKind, InputReport, Warning};
use crate::{
    ALMOST_SILENT_LUFS, ANALYSIS_RATE, AnalysisError, AnalysisInput, Engine, GATE_RELATIVE_LU,
    Step, Track, check, gate, masking_eq, spectrum,
};

/// The vocal's loudness, measured once for every stage.
pub(crate) struct VocalLevels {
    /// Integrated loudness of the mono analysis signal (what the gate and the EQ compare with).
    pub(crate) lufs: f64,
    /// Integrated loudness as the vocal plays in the stereo mix.
    pub(crate) played: Option<f64>,
}

/// A backing with something in it, and its loudness.
pub(crate) struct Backing<'a> {
    pub(crate) track: &'a Track,
    /// Integrated loudness of the mono analysis signal.
    pub(crate) mono_lufs: f64,
    /// Integrated loudness as it plays in the stereo mix (what the level balances against).
    pub(crate) played_lufs: f64,
}

pub(crate) struct Levels<'a> {
    pub(crate) vocal: VocalLevels,
    /// `None` when there is no backing or it is silent (a warning says which).
    pub(crate) backing: Option<Backing<'a>>,
}

/// Loudness of both inputs, and the warnings about them. A vocal too short or silent to analyse
/// is an error.
pub(crate) fn measure_inputs<'a>(
    input: &AnalysisInput<'a>,
    warnings: &mut Vec<Warning>,
) -> Result<Levels<'a>, AnalysisError> {
    let vocal = input.vocal;
    if let Some(b) = input.backing
        && b.info.sample_rate < crate::MIN_BACKING_RATE
    {
        return Err(AnalysisError::BackingBandLimited {
            rate: b.info.sample_rate,
        });
    }
    let seconds = vocal.mono.len() as f64 / ANALYSIS_RATE as f64;
    if seconds < 0.4 {
        return Err(AnalysisError::VocalTooShort { seconds });
    }
    let lufs = Blocks::of_mono(&vocal.mono, ANALYSIS_RATE)
        .integrated()
        .ok_or(AnalysisError::SilentVocal)?;
    let played = vocal.info.played.integrated();
    if lufs < ALMOST_SILENT_LUFS {
        warnings.push(Warning::new(
            "vocal_almost_silent",
            format!("the vocal is almost silent ({lufs:.1} LUFS): the suggestion may follow noise rather than singing"),
        ));
    }
    if vocal.info.clipped_passages > 0 {
        warnings.push(Warning::new(
            "vocal_clipping",
            format!(
                "the vocal clips in {} places: the recording is distorted there, which no mix setting undoes",
                vocal.info.clipped_passages
            ),
        ));
    }
    if vocal.info.non_finite > 0 {
        warnings.push(Warning::new(
            "vocal_not_finite",
            format!(
                "{} vocal samples were NaN or infinite and were treated as silence",
                vocal.info.non_finite
            ),
        ));
    }
    Ok(Levels {
        vocal: VocalLevels { lufs, played },
        backing: measure_backing(input.backing, warnings),
    })
}

fn measure_backing<'a>(
    backing: Option<&'a Track>,
    warnings: &mut Vec<Warning>,
) -> Option<Backing<'a>> {
    let Some(track) = backing else {
        warnings.push(Warning::new(
            "backing_missing",
            "no backing track: the EQ stays flat and the vocal level is left at 0 dB (both need the backing); the tempo comes from --tempo or is assumed",
        ));
        return None;
    };
    if track.info.clipped_passages > 0 {
        warnings.push(Warning::new(
            "backing_clipping",
            format!(
                "the backing clips in {} places",
                track.info.clipped_passages
            ),
        ));
    }
    let mono = Blocks::of_mono(&track.mono, ANALYSIS_RATE).integrated();
    match (mono, track.info.played.integrated()) {
        (Some(mono_lufs), Some(played_lufs)) => Some(Backing {
            track,
            mono_lufs,
            played_lufs,
        }),
        _ => {
            warnings.push(Warning::new(
                "backing_silent",
                "the backing track is silent: the EQ stays flat and the vocal level is left at 0 dB",
            ));
            None
        }
    }
}

/// The spectra of both inputs and the vocal-activity gate over them.
pub(crate) struct Features {
    pub(crate) vocal: spectrum::Frames,
    pub(crate) backing: Option<spectrum::Frames>,
    /// The vocal's frames the gate keeps.
    pub(crate) kept: Vec<usize>,
    pub(crate) gate: Gate,
    /// The vocal's octave-band levels over the kept frames (none when no frame is kept).
    pub(crate) vocal_bands: Option<[f64; 9]>,
}

fn loudness_gate(threshold: f64, total: usize, kept: usize) -> Gate {
    Gate {
        kind: GateKind::Loudness,
        rule: "frames more than 20 LU under the vocal's own integrated loudness are left out"
            .into(),
        relative_lu: GATE_RELATIVE_LU,
        threshold_lufs: Some(masking_eq::round2(threshold)),
        frames_kept: kept,
        frames_total: total,
    }
}

pub(crate) fn measure_features(
    input: &AnalysisInput,
    levels: &Levels,
    warnings: &mut Vec<Warning>,
    progress: &mut dyn FnMut(Step, f32) -> bool,
) -> Result<Features, AnalysisError> {
    let mut analyser = spectrum::Analyser::new(ANALYSIS_RATE);
    // with mel bands when a CNN may read them (the EQ model takes these very frames)
    let mel = input.engine != Engine::Rules;
    let vocal = analyser.frames(&input.vocal.mono, mel);
    check(progress, Step::Measuring, 0.1)?;
    let backing = levels
        .backing
        .as_ref()
        .map(|b| analyser.frames(&b.track.mono, mel));
    check(progress, Step::Measuring, 0.2)?;
    let threshold = levels.vocal.lufs + GATE_RELATIVE_LU;
    let by_loudness = || gate::loudness_kept(&vocal, levels.vocal.lufs);
    let (kept, gate) = match input.vad_gate {
        Some(model) => match gate::vad_kept(model, &input.vocal.mono, vocal.len()) {
            Ok(kept) if !kept.is_empty() => {
                let g = Gate {
                    kind: GateKind::Vad,
                    rule:
                        "only the frames the vocal-activity detector hears singing in are analysed"
                            .into(),
                    relative_lu: GATE_RELATIVE_LU,
                    threshold_lufs: None,
                    frames_kept: kept.len(),
                    frames_total: vocal.len(),
                };
                (kept, g)
            }
            result => {
                warnings.push(Warning::new(
                    "vad_gate_unusable",
                    match result {
                        Err(e) => format!("the vocal-activity gate failed ({e}): the loudness gate is used"),
                        Ok(_) => "the vocal-activity detector hears no singing in the vocal: the loudness gate is used".into(),
                    },
                ));
                (by_loudness(), loudness_gate(threshold, vocal.len(), 0))
            }
        },
        None => (by_loudness(), loudness_gate(threshold, vocal.len(), 0)),
    };
    let gate = Gate {
        frames_kept: kept.len(),
        ..gate
    };
    let vocal_bands = mean_bands(&vocal, &kept);
    Ok(Features {
        vocal,
        backing,
        kept,
        gate,
        vocal_bands,
    })
}

/// Octave-band levels (dB) of `frames` averaged over the `kept` frames it has.
pub(crate) fn mean_bands(frames: &spectrum::Frames, kept: &[usize]) -> Option<[f64; 9]> {
    let idx: Vec<usize> = kept.iter().copied().filter(|&i| i < frames.len()).collect();
    if idx.is_empty() {
        return None;
    }
    let mut sum = [0.0f64; 9];
    for &i in &idx {
        for (s, p) in sum.iter_mut().zip(frames.bands[i]) {
            *s += p as f64;
        }
    }
    Some(masking_eq::band_db(&sum.map(|s| s / idx.len() as f64)))
}

pub(crate) fn input_report(t: &Track) -> InputReport {
    InputReport {
        seconds: masking_eq::round2(t.info.seconds),
        sample_rate: t.info.sample_rate,
        channels: t.info.channels,
        peak_dbfs: t
            .info
            .peak_dbfs
            .is_finite()
            .then(|| masking_eq::round2(t.info.peak_dbfs)),
        integrated_lufs: t.info.played.integrated().map(masking_eq::round2),
        loudness_range_lu: t.info.played.loudness_range().map(masking_eq::round2),
        clipped_passages: t.info.clipped_passages,
    }
}
