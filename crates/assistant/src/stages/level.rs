//! The level: the fader that puts the processed vocal under the backing by the target (the
//! rules', the level model's, pulled toward the reference's balance), and the ride that holds
//! that balance phrase by phrase; the lock.

use automix_dsp::params::{MixParams, ParamId, Stage};

use super::{Progress, Run, compressed, locked_reason};
use crate::loudness::Blocks;
use crate::measuring::inputs::Levels;
use crate::suggestion::{LevelDecision, Warning};
use crate::targets::Targets;
use crate::{
    ANALYSIS_RATE, AnalysisError, Step, check, level_balance, masking_eq,
    neural::assistant as cnn_assistant, ride_rule,
};

pub(super) fn decide(run: &mut Run, progress: &mut Progress) -> Result<(), AnalysisError> {
    check(progress, Step::Stage(Stage::Level), 0.9)?;
    // without a backing there is no balance to predict (the level stays at 0 dB)
    let cnn_balance = match run.levels.backing {
        Some(_) => run
            .cnn
            .predict_with(
                Stage::Level,
                || {
                    cnn_assistant::reverberated(
                        compressed(&run.compressed, &run.vocal, &run.params),
                        &run.params,
                    )
                },
                &mut run.warnings,
            )
            .map(|p| p[0] as f64),
        None => None,
    };
    let found = run
        .compression
        .as_ref()
        .expect("the compressor is decided first");
    let mut level = decide_level(
        &run.levels,
        &found.blocks,
        &run.params,
        run.targets,
        cnn_balance,
        &mut run.warnings,
    );
    run.params.set(ParamId::LevelGain, level.gain_db);
    let mut ride = ride_rule::decide(
        &found.blocks.0,
        &run.input.vocal.info.played.0,
        run.levels
            .backing
            .as_ref()
            .map_or(&[][..], |b| &b.track.info.played.0),
        ride_balance(
            &level,
            &run.levels,
            compressed(&run.compressed, &run.vocal, &run.params),
            &run.params,
        ),
    );
    run.params
        .set(ParamId::RideOn, if ride.on { 1.0 } else { 0.0 });
    run.params.set(ParamId::RideBalance, ride.balance_db);
    level.reason = format!("{}; ride: {}", level.reason, ride.reason);
    if let Some(kept) = run.locked(Stage::Level) {
        run.keep(kept, Stage::Level);
        level.gain_db = run.params.get(ParamId::LevelGain);
        level.reason = locked_reason(Stage::Level);
        ride.on = run.params.on(ParamId::RideOn);
        ride.reason = locked_reason(Stage::Level);
    }
    check(progress, Step::Stage(Stage::Level), 1.0)?;
    run.level = Some(level);
    run.ride = Some(ride);
    Ok(())
}

/// The fader that puts the processed vocal `target_below` LU under the backing: the rules'
/// 1.77 LU, or the balance the level model predicts (`cnn_balance`, vocal minus backing).
fn decide_level(
    levels: &Levels,
    compressed_blocks: &Blocks,
    params: &MixParams,
    targets: &Targets,
    cnn_balance: Option<f64>,
    warnings: &mut Vec<Warning>,
) -> LevelDecision {
    let rule_below = rule_below(targets);
    let default_below = cnn_balance.map_or(targets.below_backing_lu, |d| -d);
    let from_reference = targets.reference.as_ref().and_then(|r| {
        let vmb = r.measures.vocal_minus_backing_lu?;
        (r.amount(Stage::Level) > 0.0).then(|| {
            let below = r.toward(Stage::Level, default_below, -vmb);
            (
                below,
                r.says(
                    Stage::Level,
                    &format!(
                        "its vocal plays {:.1} LU {} its backing",
                        vmb.abs(),
                        if vmb <= 0.0 { "under" } else { "over" }
                    ),
                ),
            )
        })
    });
    let target_below = from_reference.as_ref().map_or(default_below, |(b, _)| *b);
    let Some(backing) = &levels.backing else {
        return LevelDecision {
            target_below_backing_lu: rule_below,
            backing_lufs: None,
            processed_vocal_lufs: None,
            gain_db: 0.0,
            reason: "no backing track: the vocal level stays at 0 dB".into(),
        };
    };
    let backing_played = backing.played_lufs;
    let processed = processed_vocal_lufs(levels, compressed_blocks, params);
    let spec = ParamId::LevelGain.spec();
    let want = processed.map_or(0.0, |p| backing_played - target_below - p);
    let gain = ((want * 10.0).round() / 10.0) as f32;
    let gain_set = gain.clamp(spec.min, spec.max);
    let mut reason = format!(
        "{gain_set:+.1} dB puts the processed vocal ({:.1} LUFS) {target_below:.2} LU under the backing ({backing_played:.1} LUFS)",
        processed.unwrap_or(f64::NEG_INFINITY)
    );
    if let Some(d) = cnn_balance {
        reason = format!(
            "the level CNN asks for the vocal {:.2} LU under the backing: {reason}",
            -d
        );
    }
    if let Some((_, says)) = &from_reference {
        reason = format!("{says}; {reason}");
    }
    if gain_set != gain {
        reason = format!(
            "{gain:+.1} dB would put the vocal {target_below:.2} LU under the backing; the fader stops at {gain_set:+.1} dB"
        );
        warnings.push(Warning::new("level_out_of_range", reason.clone()));
    }
    LevelDecision {
        target_below_backing_lu: masking_eq::round2(target_below),
        backing_lufs: Some(masking_eq::round2(backing_played)),
        processed_vocal_lufs: processed.map(masking_eq::round2),
        gain_db: gain_set,
        reason,
    }
}

/// The balance the ride holds, in its own terms: the vocal's and the backing's mono folds, as
/// the analysis has them. It starts from the level decision's balance (the processed vocal minus
/// the backing, both as they play, before the fader) taken to the folds, and moves by however
/// much riding to it would move the vocal's integrated loudness (a ride follows a short average,
/// whose decibels sit under the song's energy average), so that the ride evens the vocal out
/// around the level the level decision chose. The shift is measured by running the ride itself
/// over the analysis signals (a second pass when the first moved it by 0.2 LU or more, to check
/// the correction; it is nearly linear).
fn ride_balance(
    level: &LevelDecision,
    levels: &Levels,
    compressed: &[f32],
    params: &MixParams,
) -> Option<f64> {
    let backing = levels.backing.as_ref()?;
    // a wide stereo signal plays louder than its fold on both sides: the widths, removed
    let both_sides = 10.0 * 2f64.log10();
    let vocal_width = levels
        .vocal
        .played
        .map_or(0.0, |p| p - (levels.vocal.lufs + both_sides));
    let backing_width = backing.played_lufs - (backing.mono_lufs + both_sides);
    let played = level.processed_vocal_lufs? - level.backing_lufs?;
    let mut balance = (played - vocal_width + backing_width) as f32;
    for _ in 0..2 {
        let shift = automix_dsp::vocal_ride::integrated_shift(
            compressed,
            &backing.track.mono,
            ANALYSIS_RATE as f32,
            params,
            balance,
        )?;
        balance -= shift;
        if shift.abs() < 0.2 {
            break;
        }
    }
    Some(balance as f64)
}

/// How loud the vocal plays after EQ, compressor and reverb, at 0 dB on the fader: the
/// compressed blocks plus the reverb's energy, corrected for a stereo vocal's width.
fn processed_vocal_lufs(
    levels: &Levels,
    compressed_blocks: &Blocks,
    params: &MixParams,
) -> Option<f64> {
    let wet = level_balance::wet_impulse_response(params, ANALYSIS_RATE);
    let predicted = level_balance::processed_loudness(compressed_blocks, &wet, ANALYSIS_RATE);
    // a stereo vocal's width changes how loud it plays compared with its mono analysis signal
    let width = match levels.vocal.played {
        Some(p) => p - (levels.vocal.lufs + 10.0 * 2f64.log10()),
        None => 0.0,
    };
    predicted.map(|l| l + width)
}

/// The level target without a CNN: the built-in (or fitted) one moved toward the reference's.
pub(super) fn rule_below(targets: &Targets) -> f64 {
    match &targets.reference {
        Some(r) => match r.measures.vocal_minus_backing_lu {
            Some(vmb) => r.toward(Stage::Level, targets.below_backing_lu, -vmb),
            None => targets.below_backing_lu,
        },
        None => targets.below_backing_lu,
    }
}
