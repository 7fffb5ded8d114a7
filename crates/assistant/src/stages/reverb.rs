//! The reverb: the research's tempo rule (the tempo given, the backing's, or assumed), the
//! reverb model's settings where it decides, the dry/wet toward the reference's tail, the lock.

use std::borrow::Cow;

use automix_dsp::params::{MixParams, ParamId, Stage};

use super::{Progress, Run, compressed, locked_reason};
use crate::level_balance;
use crate::measuring::inputs::Backing;
use crate::suggestion::{ReverbDecision, TempoSource, Warning};
use crate::targets::ReferenceTarget;
use crate::{
    ANALYSIS_RATE, ASSUMED_TEMPO_BPM, AnalysisError, REVERB_DRY_WET, REVERB_FADE_IN_S,
    REVERB_ROOM_SIZE, Step, TEMPO_CONFIDENCE_LOW, check, masking_eq,
    neural::assistant as cnn_assistant, reference, tempo,
};

pub(super) fn decide(run: &mut Run, progress: &mut Progress) -> Result<(), AnalysisError> {
    check(progress, Step::Stage(Stage::Reverb), 0.85)?;
    let tempo = decide_tempo(
        run.input.tempo_bpm,
        run.levels.backing.as_ref(),
        &mut run.warnings,
    );
    let mut reverb = reverb_rule(&mut run.params, &tempo);
    // the model's input, rendered only if it runs: the vocal as the compressor leaves it
    if let Some(predicted) = run.cnn.predict_with(
        Stage::Reverb,
        || compressed(&run.compressed, &run.vocal, &run.params),
        &mut run.warnings,
    ) {
        let keyed = run.cnn.keyed(Stage::Reverb, &predicted);
        reverb_by_cnn(&mut run.params, &mut reverb, &keyed);
    }
    if let Some(r) = run
        .targets
        .reference
        .as_ref()
        .filter(|r| r.measures.reverb_tail_db.is_some() && r.amount(Stage::Reverb) > 0.0)
    {
        // the vocal as it enters the reverb, from the compressor search's own pass (or, when the
        // compressor leaves it alone, the vocal it heard): no extra pass over the song
        let found = run
            .compression
            .as_ref()
            .expect("the compressor is decided first");
        let frames = match &found.frames {
            Some(f) => Cow::Borrowed(f.as_slice()),
            None => Cow::Owned(reference::frame_energies(&run.vocal, ANALYSIS_RATE)),
        };
        toward_reference(&mut run.params, &mut reverb, r, &frames);
    }
    if let Some(kept) = run.locked(Stage::Reverb) {
        run.keep(kept, Stage::Reverb);
        reverb.reverb_time_s = run.params.get(ParamId::ReverbTime);
        reverb.reason = locked_reason(Stage::Reverb);
    }
    run.reverb = Some(reverb);
    Ok(())
}

/// The song's tempo and where it came from.
#[derive(Clone, Copy)]
struct Tempo {
    bpm: f64,
    source: TempoSource,
    confidence: Option<f64>,
}

/// The caller's tempo, else the backing's estimate, else 120 BPM assumed (with a warning).
fn decide_tempo(
    given: Option<f64>,
    backing: Option<&Backing>,
    warnings: &mut Vec<Warning>,
) -> Tempo {
    let assumed = |warnings: &mut Vec<Warning>, why: String| {
        warnings.push(Warning::new("tempo_assumed", why));
        Tempo {
            bpm: ASSUMED_TEMPO_BPM,
            source: TempoSource::Assumed,
            confidence: None,
        }
    };
    if let Some(t) = given.filter(|t| t.is_finite() && *t > 0.0) {
        return Tempo {
            bpm: t,
            source: TempoSource::Caller,
            confidence: None,
        };
    }
    let Some(b) = backing else {
        return assumed(
            warnings,
            format!(
                "tempo unknown: {ASSUMED_TEMPO_BPM} BPM assumed for the reverb time; give it with --tempo"
            ),
        );
    };
    let Some(e) = tempo::estimate(&b.track.mono, ANALYSIS_RATE) else {
        return assumed(
            warnings,
            format!(
                "no beat found in the backing (or under {} s of it): {ASSUMED_TEMPO_BPM} BPM assumed for the reverb time; give it with --tempo",
                tempo::MIN_SECONDS
            ),
        );
    };
    if e.confidence < TEMPO_CONFIDENCE_LOW {
        warnings.push(Warning::new(
            "tempo_uncertain",
            format!(
                "the backing's tempo is uncertain ({:.1} BPM at confidence {:.2}): give it with --tempo if you know it",
                e.bpm, e.confidence
            ),
        ));
    }
    Tempo {
        bpm: e.bpm,
        source: TempoSource::Estimated,
        confidence: Some(e.confidence),
    }
}

/// The reverb model's ten settings in place of the rule's.
fn reverb_by_cnn(params: &mut MixParams, reverb: &mut ReverbDecision, keyed: &[(String, f32)]) {
    cnn_assistant::apply_by_key(params, keyed);
    reverb.reverb_time_s = params.get(ParamId::ReverbTime);
    reverb.reason = format!(
        "the reverb CNN's settings: {:.2} s, room {:.1}, dry/wet {:.2} (the tempo rule would give {:.2} s)",
        params.get(ParamId::ReverbTime),
        params.get(ParamId::ReverbRoomSize),
        params.get(ParamId::ReverbDryWet),
        reverb.formula_time_s
    );
}

/// RT = −T/45 + 40/9 (Li & Lerch, eq. 1), clamped to the reverb's range; the other reverb
/// parameters are the research's dataset means where it gives them (dry/wet, room size, fade-in)
/// and FdnReverb's own defaults for the shelving filters, which the research does not report
/// (low shelf 100 Hz, Q 0.5, +1 dB/s; high shelf 2 kHz, Q 0.5, −10 dB/s: a tail that darkens
/// as it decays).
fn reverb_rule(params: &mut MixParams, tempo: &Tempo) -> ReverbDecision {
    let Tempo {
        bpm: tempo_bpm,
        source,
        confidence,
    } = *tempo;
    let formula = -tempo_bpm / 45.0 + 40.0 / 9.0;
    let spec = ParamId::ReverbTime.spec();
    let rt = ((formula as f32).clamp(spec.min, spec.max) * 100.0).round() / 100.0;
    params.set(ParamId::ReverbTime, rt);
    params.set(ParamId::ReverbDryWet, REVERB_DRY_WET);
    params.set(ParamId::ReverbRoomSize, REVERB_ROOM_SIZE);
    params.set(ParamId::ReverbFadeIn, REVERB_FADE_IN_S);
    for id in [
        ParamId::ReverbLowCutoff,
        ParamId::ReverbLowQ,
        ParamId::ReverbLowGain,
        ParamId::ReverbHighCutoff,
        ParamId::ReverbHighQ,
        ParamId::ReverbHighGain,
    ] {
        params.set(id, id.spec().default);
    }
    let from = match source {
        TempoSource::Caller => "the given tempo",
        TempoSource::Estimated => "the backing's tempo",
        TempoSource::Assumed => "an assumed tempo",
    };
    let mut reason =
        format!("reverb time {rt:.2} s from {from}, {tempo_bpm:.1} BPM (RT = −T/45 + 40/9)");
    if (formula as f32) < spec.min || (formula as f32) > spec.max {
        reason.push_str(&format!(
            "; the formula gives {formula:.2} s, outside the reverb's {}–{} s",
            spec.min, spec.max
        ));
    }
    ReverbDecision {
        tempo_bpm: masking_eq::round2(tempo_bpm),
        tempo_source: source,
        tempo_confidence: confidence.map(masking_eq::round2),
        formula_time_s: masking_eq::round2(formula),
        reverb_time_s: rt,
        reason,
    }
}

/// The dry/wet moved toward the reference's: the one at which this reverb gives the vocal (as it
/// enters the reverb) the reference vocal's tail ([`reference::match_dry_wet`]).
fn toward_reference(
    params: &mut MixParams,
    reverb: &mut ReverbDecision,
    r: &ReferenceTarget,
    into_reverb: &[f64],
) {
    let Some(tail) = r.measures.reverb_tail_db else {
        return;
    };
    if r.amount(Stage::Reverb) <= 0.0 {
        return;
    }
    let mut full = params.clone();
    full.set(ParamId::ReverbDryWet, 1.0);
    full.set(ParamId::ReverbBypass, 0.0);
    let kernel = reference::tail_kernel(
        &level_balance::wet_impulse_response(&full, ANALYSIS_RATE),
        ANALYSIS_RATE,
    );
    let dry = into_reverb;
    let m = reference::match_dry_wet(dry, &kernel, tail);
    let default = params.get(ParamId::ReverbDryWet) as f64;
    let w = r.toward(Stage::Reverb, default, m.dry_wet as f64);
    let w = ((w * 1000.0).round() / 1000.0) as f32;
    params.set(ParamId::ReverbDryWet, w);
    let dry_tail = m
        .dry_tail_db
        .map_or("too few phrase ends to read".to_string(), |d| {
            format!("{d:.1} dB")
        });
    let says = r.says(
        Stage::Reverb,
        &format!(
            "its vocal's tail sits {tail:.1} dB under the singing (yours, dry: {dry_tail}); dry/wet {:.0} % gives yours the same, so dry/wet {:.0} %",
            m.dry_wet * 100.0,
            w * 100.0
        ),
    );
    reverb.reason = format!("{says}; {}", reverb.reason);
}
