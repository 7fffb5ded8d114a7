//! The compressor: the search for the setting that brings the vocal's loudness range to the
//! target (the rules' range, the compression model's, pulled toward the reference's), or the
//! user's locked setting measured once for the stages after it.

use automix_dsp::params::{MixParams, ParamId, Stage};

use super::{Progress, Run, locked_reason};
use crate::compression_search;
use crate::loudness::Blocks;
use crate::neural::assistant::CnnRun;
use crate::suggestion::Warning;
use crate::targets::ReferenceTarget;
use crate::{ANALYSIS_RATE, AnalysisError, Step, check};

pub(super) fn decide(run: &mut Run, progress: &mut Progress) -> Result<(), AnalysisError> {
    let found = match run.locked(Stage::Compressor) {
        Some(kept) => {
            run.keep(kept, Stage::Compressor);
            compression_search::kept(
                &run.vocal,
                ANALYSIS_RATE,
                &run.params,
                locked_reason(Stage::Compressor),
            )
        }
        None => search(
            &run.vocal,
            &mut run.params,
            &mut run.cnn,
            run.targets.reference.as_ref(),
            &mut run.warnings,
            progress,
        )?,
    };
    run.compression = Some(found);
    Ok(())
}

/// The compressor search on the EQ'd vocal, towards the rules' loudness range or the one the
/// compression model asks for; sets the compressor's parameters.
fn search(
    eq_vocal: &[f32],
    params: &mut MixParams,
    cnn: &mut CnnRun,
    reference: Option<&ReferenceTarget>,
    warnings: &mut Vec<Warning>,
    progress: &mut dyn FnMut(Step, f32) -> bool,
) -> Result<compression_search::SearchResult, AnalysisError> {
    let eq_blocks = Blocks::of_mono(eq_vocal, ANALYSIS_RATE);
    let step = Step::Stage(Stage::Compressor);
    check(progress, step, 0.35)?;
    let cnn_range = cnn
        .predict(Stage::Compressor, eq_vocal, warnings)
        .map(|p| p[0] as f64);
    let default = cnn_range.unwrap_or(compression_search::TARGET_LU);
    let from_reference = reference.and_then(|r| {
        let lra = r.measures.vocal_loudness_range_lu?;
        (r.amount(Stage::Compressor) > 0.0).then(|| {
            let t = r.toward(Stage::Compressor, default, lra);
            (
                t,
                r.says(
                    Stage::Compressor,
                    &format!(
                        "its vocal's loudness range is {lra:.1} LU, so the target is {t:.1} LU"
                    ),
                ),
            )
        })
    });
    let target = from_reference.as_ref().map_or(default, |(t, _)| *t);
    let mut found = compression_search::search(
        eq_vocal,
        ANALYSIS_RATE,
        &eq_blocks,
        params,
        target,
        &mut |passes| progress(step, 0.35 + 0.1 * passes.min(5) as f32),
    )
    .ok_or(AnalysisError::Cancelled)?;
    if let Some(t) = cnn_range {
        found.decision.reason = format!(
            "the compression CNN asks for a loudness range of {t:.1} LU: {}",
            found.decision.reason
        );
    }
    if let Some((_, says)) = from_reference {
        found.decision.reason = format!("{says}; {}", found.decision.reason);
    }
    *params = compression_search::params_for(params, found.step, params.get(ParamId::CompKnee));
    Ok(found)
}
