//! The de-esser, part of the EQ stage (the EQ's lock keeps it too): decided from the sibilance
//! of the vocal as the EQ leaves it; then the vocal de-essed for the stages after it.

use automix_dsp::de_esser::DeEsser;
use automix_dsp::params::{ParamId, Stage};
use automix_dsp::processor::{prepared, process_mono};

use super::{Progress, Run, locked_reason};
use crate::sibilance::{self, DeEsserDecision};
use crate::{ANALYSIS_RATE, AnalysisError};

pub(super) fn decide(run: &mut Run, _: &mut Progress) -> Result<(), AnalysisError> {
    let decision = if run.locked(Stage::Eq).is_some() {
        DeEsserDecision {
            on: run.params.on(ParamId::DeessOn),
            reason: locked_reason(Stage::Eq),
            ..Default::default()
        }
    } else {
        let d = sibilance::decide(sibilance::measure(&run.vocal, ANALYSIS_RATE));
        run.params
            .set(ParamId::DeessOn, if d.on { 1.0 } else { 0.0 });
        run.params.set(ParamId::DeessFreq, d.freq_hz);
        run.params.set(ParamId::DeessThreshold, d.threshold_db);
        run.params.set(ParamId::DeessRange, d.range_db);
        if let Some(eq) = run.eq.as_mut() {
            eq.reason = format!("{}; de-esser: {}", eq.reason, d.reason);
        }
        d
    };
    // the later stages hear the vocal as the chain hands it on: de-essed, when the de-esser is on
    if run.params.on(ParamId::DeessOn) {
        let mut de_esser = prepared(DeEsser::new(), ANALYSIS_RATE as f32, &run.params);
        process_mono(&mut de_esser, &mut run.vocal);
    }
    run.de_esser = Some(decision);
    Ok(())
}
