//! The EQ: the tone correction toward the target tone and the masking rule over the gated frames
//! (the rules), the EQ model's bands where it decides, the user's lock; then the vocal rendered
//! through the EQ for the stages after it.

use automix_dsp::eq::Equalizer;
use automix_dsp::params::{EQ_BANDS, MixParams, Stage};
use automix_dsp::processor::{prepared, process_mono};

use super::level::rule_below;
use super::{Progress, Run, locked_reason};
use crate::measuring::inputs::{Features, Levels, mean_bands};
use crate::neural::assistant::{self as cnn_assistant, CnnRun};
use crate::suggestion::{EqDecision, Warning};
use crate::targets::Targets;
use crate::{ANALYSIS_RATE, AnalysisError, Step, check, masking_eq, spectrum, tone_eq};

pub(super) fn decide(run: &mut Run, progress: &mut Progress) -> Result<(), AnalysisError> {
    check(progress, Step::Stage(Stage::Eq), 0.25)?;
    let rules = by_rules(
        &run.levels,
        &run.features,
        run.cnn.backing(),
        run.targets,
        &mut run.warnings,
    );
    run.cnn.announce(&mut run.warnings);
    let mut eq = by_cnn(
        rules,
        &mut run.cnn,
        &run.levels,
        &run.features.vocal,
        &mut run.warnings,
    );
    set_eq(&mut run.params, &eq);
    if let Some(kept) = run.locked(Stage::Eq) {
        run.keep(kept, Stage::Eq);
        for (band, (_, gain_id, _)) in eq.bands.iter_mut().zip(EQ_BANDS.iter()) {
            band.gain_db = run.params.get(*gain_id);
        }
        eq.filters.clear();
        eq.reason = locked_reason(Stage::Eq);
    }
    run.vocal = eq_only(&run.input.vocal.mono, &run.params, ANALYSIS_RATE);
    run.eq = Some(eq);
    Ok(())
}

/// The tone correction toward `targets.tone`, and the masking rule over the gated frames on the
/// vocal as the tone correction leaves it; flat, with the reason, when there is nothing to
/// compare.
fn by_rules(
    levels: &Levels,
    features: &Features,
    backing_frames: Option<&spectrum::Frames>,
    targets: &Targets,
    warnings: &mut Vec<Warning>,
) -> EqDecision {
    let Some(vocal) = &features.vocal_bands else {
        return masking_eq::flat(
            None,
            "the vocal is shorter than one analysis frame (46 ms) above the gate: the EQ stays flat",
        );
    };
    let tone = vocal.map(|b| b - levels.vocal.lufs);
    let tone_target = targets.tone_target();
    let correction = tone_target
        .as_ref()
        .map(|t| (t, tone_eq::correct(&tone, t)));
    // the masking rule hears the vocal as the tone correction leaves it
    let shifted = match &correction {
        Some((_, c)) => {
            let r = tone_eq::response(&c.gains_db);
            std::array::from_fn(|b| vocal[b] + r[b])
        }
        None => *vocal,
    };
    let masking = match (&levels.backing, backing_frames) {
        (Some(backing), Some(frames)) => match mean_bands(frames, &features.kept) {
            Some(b) => {
                let shift = backing.mono_lufs - rule_below(targets) - levels.vocal.lufs;
                masking_eq::decide(&shifted, &b, shift)
            }
            None => {
                warnings.push(Warning::new(
                    "backing_ends_early",
                    "the backing ends before the vocal starts: no overlap to compare, the EQ stays flat",
                ));
                masking_eq::flat(
                    Some(&shifted),
                    "the vocal and the backing never sound together: no masking to reduce",
                )
            }
        },
        _ => masking_eq::flat(
            Some(&shifted),
            "no backing track to compare with: no masking to reduce",
        ),
    };
    match correction {
        Some((target, c)) => tone_eq::with_masking(masking, vocal, &tone, target, &c),
        None => masking,
    }
}

/// The EQ model's decision in place of the rules', where it is to decide.
fn by_cnn(
    rules: EqDecision,
    cnn: &mut CnnRun,
    levels: &Levels,
    vocal: &spectrum::Frames,
    warnings: &mut Vec<Warning>,
) -> EqDecision {
    match cnn.predict_frames(Stage::Eq, levels.vocal.lufs, vocal, warnings) {
        Some(predicted) => {
            let model = cnn.model(Stage::Eq).expect("a model predicted");
            let errors: Vec<Option<f64>> = (0..predicted.len())
                .map(|i| model.output_error(i))
                .collect();
            cnn_assistant::eq_decision(rules, &predicted, &model.trusted_outputs(), &errors)
        }
        None => rules,
    }
}

fn set_eq(params: &mut MixParams, eq: &EqDecision) {
    for (band, (_, gain_id, q_id)) in EQ_BANDS.iter().enumerate() {
        params.set(*gain_id, eq.bands.get(band).map_or(0.0, |b| b.gain_db));
        params.set(*q_id, masking_eq::Q);
    }
}

/// The vocal through the engine's EQ alone, on the chain's control grid, at the analysis rate.
fn eq_only(signal: &[f32], params: &MixParams, rate: u32) -> Vec<f32> {
    let mut eq = prepared(Equalizer::new(), rate as f32, params);
    let mut out = signal.to_vec();
    process_mono(&mut eq, &mut out);
    out
}
