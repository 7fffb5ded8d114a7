//! How well a reference's measures survive separation: a professional song measured from its
//! true stems and from what the separator makes of its mixture, and the song's own vocal mixed
//! with the mixture as its reference (does the level land on the professional's balance?).

use serde::Serialize;

use super::metrics::Stereo;
use super::{Song, degrade, track};
use automix_assistant::reference::{self, ReferenceMeasures};
use automix_assistant::targets::{ReferenceTarget, Targets};
use automix_assistant::{AnalysisInput, Engine, analyze};
use automix_separation::SeparationModels;

#[derive(Clone, Debug, Serialize)]
pub struct ReferenceAccuracy {
    pub song: String,
    pub seconds: f64,
    /// Measured on the true vocal stem and accompaniment.
    pub stems: ReferenceMeasures,
    /// Measured on the separator's vocal and accompaniment of the mixture.
    pub separated: ReferenceMeasures,
    /// The professional's balance: vocal stem minus accompaniment as both play, LU.
    pub professional_balance_lu: f64,
    /// The song's vocal stem mixed over its accompaniment by the rules with the mixture as the
    /// reference (every amount 100 %).
    pub matched: Mixed,
    /// The same without a reference (the built-in 1.77 LU under the backing).
    pub default: Mixed,
}

/// `mixture`: the song's mix (the stems' sum when the song has none).
pub fn evaluate(
    song: &Song,
    mixture: Option<Stereo>,
    models: &SeparationModels,
) -> Result<ReferenceAccuracy, String> {
    let rate = song.sample_rate;
    let vocal = track(&song.vocal, rate)?;
    let backing = track(&song.accompaniment, rate)?;
    let stems = reference::measure(&vocal, Some(&backing), vocal.info.seconds);
    let sum = |a: &[f32], b: &[f32]| a.iter().zip(b).map(|(x, y)| x + y).collect();
    let mixture = mixture.unwrap_or_else(|| Stereo {
        left: sum(&song.vocal.left, &song.accompaniment.left),
        right: sum(&song.vocal.right, &song.accompaniment.right),
    });
    let measured = reference::measure_song(
        models,
        vec![mixture.left, mixture.right],
        rate,
        &mut |_, _| {},
        None,
    )
    .map_err(|e| format!("{}: {e}", song.name))?;
    let separated = measured.measures;
    let pro = profile_balance(song)?;
    let matched = mixed_like(song, &separated, "the mixture")?;
    let default = mixed_like(song, &ReferenceMeasures::none(), "")?;
    Ok(ReferenceAccuracy {
        song: song.name.clone(),
        seconds: song.vocal.len() as f64 / rate as f64,
        stems,
        separated,
        professional_balance_lu: pro,
        matched,
        default,
    })
}

/// The professional's balance: the vocal stem minus the accompaniment as both play, LU.
pub fn profile_balance(song: &Song) -> Result<f64, String> {
    let rate = song.sample_rate;
    let acc = song
        .accompaniment
        .blocks(rate)
        .integrated()
        .ok_or_else(|| format!("{}: the accompaniment is silent", song.name))?;
    let pro = song
        .vocal
        .blocks(rate)
        .integrated()
        .ok_or_else(|| format!("{}: the vocal is silent", song.name))?;
    Ok(pro - acc)
}

/// A song's vocal stem mixed by the rules over its accompaniment.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Mixed {
    /// The processed vocal minus the accompaniment as rendered, LU.
    pub balance_lu: Option<f64>,
    /// The processed vocal's loudness range, LU.
    pub loudness_range_lu: Option<f64>,
    /// The balance the level decision aimed at, LU.
    pub target_lu: f64,
    /// The processed vocal's octave bands relative to its loudness, dB (the reference's measure).
    pub tone_relative_db: Option<[f64; 9]>,
}

/// `song`'s vocal stem mixed over its accompaniment by the rules toward `reference` (every
/// amount 100 %; a reference with no measures leaves the built-in targets).
pub fn mixed_like(
    song: &Song,
    reference: &ReferenceMeasures,
    source: &str,
) -> Result<Mixed, String> {
    let rate = song.sample_rate;
    let vocal = track(&song.vocal, rate)?;
    let backing = track(&song.accompaniment, rate)?;
    let acc = song
        .accompaniment
        .blocks(rate)
        .integrated()
        .ok_or_else(|| format!("{}: the accompaniment is silent", song.name))?;
    let targets = Targets {
        reference: (reference.vocal_minus_backing_lu.is_some()
            || reference.vocal_loudness_range_lu.is_some())
        .then(|| ReferenceTarget {
            measures: reference.clone(),
            source: source.into(),
            amounts: [1.0; 4],
        }),
        ..Targets::built_in()
    };
    let s = analyze(
        &AnalysisInput {
            vocal: &vocal,
            backing: Some(&backing),
            tempo_bpm: None,
            engine: Engine::Rules,
            models: None,
            targets: Some(&targets),
            keep: None,
            vad_gate: None,
        },
        &mut |_, _| true,
    )
    .map_err(|e| format!("{}: {e}", song.name))?;
    let out = degrade::render(&song.vocal, rate, &s.params, Some(&song.accompaniment))?;
    let blocks = out.blocks(rate);
    let processed = track(&out, rate)?;
    let tone = reference::measure(&processed, Some(&backing), processed.info.seconds);
    Ok(Mixed {
        tone_relative_db: tone.tone_relative_db,
        balance_lu: blocks.integrated().map(|v| v - acc),
        loudness_range_lu: automix_assistant::loudness::Blocks::of_mono(&out.mid(), rate)
            .loudness_range(),
        target_lu: -s.level.target_below_backing_lu,
    })
}
