//! The compression rule (seed 000 §III-B): starting at threshold 0 dB and ratio 3:1 (attack
//! 30 ms, release 150 ms), each step lowers the threshold 3 dB and raises the ratio 0.1 until the
//! EQ'd vocal's loudness range is at most 16.36 LU, or the threshold would pass −35 dB.
//!
//! The paper walks the steps one by one; with twelve steps and a song-long compressor pass each,
//! that is the slow part of the analysis. Two things make it cheap without changing the answer:
//!
//! * steps whose threshold (less half the knee) lies above the vocal's peak cannot touch the
//!   signal, so their range is the uncompressed one and is not measured again;
//! * deeper steps compress more (lower threshold *and* higher ratio), so the range falls step by
//!   step, and the first step that reaches the target is found by bisection: about four passes
//!   instead of up to twelve. A test checks the answer against the step-by-step walk.
//!
//! Each pass runs the engine's own compressor (the chain, other stages switched off) at the
//! analysis rate and measures with [`super::loudness`]; nothing is decoded or resampled again.

use super::loudness::Blocks;
use super::suggestion::{CompressionDecision, SearchOutcome, SearchStep};
use crate::dsp::chain::CONTROL;
use crate::dsp::compressor::Compressor;
use crate::params::{MixParams, ParamId};

pub const TARGET_LU: f64 = 16.36;
pub const ATTACK_MS: f32 = 30.0;
pub const RELEASE_MS: f32 = 150.0;
pub const START_THRESHOLD_DB: f32 = 0.0;
pub const START_RATIO: f32 = 3.0;
pub const THRESHOLD_STEP_DB: f32 = -3.0;
pub const RATIO_STEP: f32 = 0.1;
pub const FLOOR_DB: f32 = -35.0;
/// Steps 0 ..= LAST_STEP have thresholds 0 … −33 dB; the next would pass the floor.
pub const LAST_STEP: usize = ((START_THRESHOLD_DB - FLOOR_DB) / -THRESHOLD_STEP_DB) as usize;
/// A whole number of control periods.
const BLOCK: usize = 128 * CONTROL;

/// Threshold (dB) and ratio of step `k`.
pub fn setting(k: usize) -> (f32, f32) {
    (
        START_THRESHOLD_DB + THRESHOLD_STEP_DB * k as f32,
        // rounded to the ratio's tenth so that 3.0 + 0.1·k is exactly what a user would type
        ((START_RATIO + RATIO_STEP * k as f32) * 10.0).round() / 10.0,
    )
}

/// The compressor parameters of step `k` on top of `base` (make-up 0 dB: level is decided later).
pub fn params_for(base: &MixParams, k: usize, knee_db: f32) -> MixParams {
    let (t, r) = setting(k);
    let mut p = base.clone();
    p.set(ParamId::CompThreshold, t);
    p.set(ParamId::CompRatio, r);
    p.set(ParamId::CompKnee, knee_db);
    p.set(ParamId::CompAttack, ATTACK_MS);
    p.set(ParamId::CompRelease, RELEASE_MS);
    p.set(ParamId::CompMakeup, 0.0);
    p
}

/// Runs `signal` through the compressor alone with `params` and measures the result. The
/// engine's own compressor, driven on the chain's control grid as the chain drives it (the chain's
/// other work — switching, sanitising, the level stage — has nothing to do here).
pub fn compressed_blocks(signal: &[f32], sample_rate: u32, params: &MixParams) -> Blocks {
    let mut comp = Compressor::new();
    comp.prepare(sample_rate as f32);
    comp.set_params(params, true);
    let mut meter = super::loudness::BlockMeter::new(sample_rate, 1);
    let mut l = vec![0.0f32; BLOCK];
    let mut unused = [0.0f32; CONTROL];
    for chunk in signal.chunks(BLOCK) {
        let n = chunk.len();
        l[..n].copy_from_slice(chunk);
        for period in l[..n].chunks_mut(CONTROL) {
            let m = period.len();
            comp.process(period, &mut unused[..m], false, true);
        }
        meter.push_mono(&l[..n]);
    }
    meter.finish()
}

/// `signal` through the compressor alone with `params`, as [`compressed_blocks`] runs it.
pub fn compressed(signal: &[f32], sample_rate: u32, params: &MixParams) -> Vec<f32> {
    let mut comp = Compressor::new();
    comp.prepare(sample_rate as f32);
    comp.set_params(params, true);
    let mut out = signal.to_vec();
    let mut unused = [0.0f32; CONTROL];
    for period in out.chunks_mut(CONTROL) {
        let m = period.len();
        comp.process(period, &mut unused[..m], false, true);
    }
    out
}

/// What the search found: the decision, and the measured blocks of the vocal as compressed.
pub struct SearchResult {
    pub decision: CompressionDecision,
    pub step: usize,
    pub blocks: Blocks,
}

/// Searches the compressor setting for the EQ'd vocal (`signal`, mono at `sample_rate`).
/// `uncompressed` are its loudness blocks; `base` carries the other stages' parameters.
/// `target` is the loudness range to reach (the rule's [`TARGET_LU`], or the CNN's prediction).
/// `progress` gets the number of passes run so far; returning false stops the search early.
pub fn search(
    signal: &[f32],
    sample_rate: u32,
    uncompressed: &Blocks,
    base: &MixParams,
    target: f64,
    progress: &mut dyn FnMut(usize) -> bool,
) -> Option<SearchResult> {
    let knee = base.get(ParamId::CompKnee);
    let before = uncompressed.loudness_range();
    let Some(lra0) = before else {
        let (t, r) = setting(0);
        return Some(SearchResult {
            decision: decision(
                target,
                t,
                r,
                knee,
                None,
                None,
                SearchOutcome::TooShort,
                Vec::new(),
                1,
                "under 3 s of vocal: no loudness range to measure, so the compressor keeps the rule's first setting".into(),
            ),
            step: 0,
            blocks: compressed_blocks(signal, sample_rate, &params_for(base, 0, knee)),
        });
    };
    let peak_db = 20.0 * (signal.iter().fold(0.0f32, |m, x| m.max(x.abs())) as f64).log10();
    let inert = |k: usize| (setting(k).0 - knee / 2.0) as f64 >= peak_db;

    let mut measured: Vec<Option<(Blocks, f64)>> = vec![None; LAST_STEP + 1];
    let mut order: Vec<usize> = Vec::new();
    let mut passes = 0;
    let mut measure = |k: usize,
                       measured: &mut Vec<Option<(Blocks, f64)>>,
                       order: &mut Vec<usize>|
     -> Option<f64> {
        if let Some((_, lra)) = &measured[k] {
            return Some(*lra);
        }
        let (blocks, lra) = if inert(k) {
            (uncompressed.clone(), lra0)
        } else {
            let b = compressed_blocks(signal, sample_rate, &params_for(base, k, knee));
            passes += 1;
            if !progress(passes) {
                return None;
            }
            let lra = b.loudness_range().unwrap_or(0.0);
            (b, lra)
        };
        measured[k] = Some((blocks, lra));
        order.push(k);
        Some(lra)
    };

    // the first step reaching the target, by bisection over the falling range; LAST_STEP + 1
    // stands for "none does". Step 0 first: a vocal already within the target (common) then
    // costs one pass.
    let (mut lo, mut hi) = if measure(0, &mut measured, &mut order)? <= target {
        (0, 0)
    } else {
        (1, LAST_STEP + 1)
    };
    while lo < hi {
        let mid = (lo + hi) / 2;
        if measure(mid, &mut measured, &mut order)? <= target {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    let step = lo.min(LAST_STEP);
    measure(step, &mut measured, &mut order)?;
    let (blocks, lra) = measured[step].clone().expect("measured");
    let outcome = if step == 0 && lra0 <= target {
        SearchOutcome::AlreadyWithin
    } else if lra <= target {
        SearchOutcome::Reached
    } else {
        SearchOutcome::StoppedAtFloor
    };
    let (t, r) = setting(step);
    let reason = match outcome {
        SearchOutcome::AlreadyWithin => format!(
            "the vocal's loudness range, {lra0:.1} LU, is already within {target:.2} LU: the compressor keeps its first setting ({t:.0} dB, {r:.1}:1)"
        ),
        SearchOutcome::Reached => format!(
            "{t:.0} dB at {r:.1}:1 brings the loudness range from {lra0:.1} to {lra:.1} LU (target {target:.2} LU)"
        ),
        _ => format!(
            "even {t:.0} dB at {r:.1}:1 leaves {lra:.1} LU (from {lra0:.1}); the rule stops before −35 dB"
        ),
    };
    let passes = order.iter().filter(|&&k| !inert(k)).count();
    let steps = order
        .iter()
        .map(|&k| {
            let (t, r) = setting(k);
            SearchStep {
                threshold_db: t,
                ratio: r,
                loudness_range_lu: measured[k].as_ref().map(|m| round2(m.1)),
            }
        })
        .collect();
    Some(SearchResult {
        decision: decision(
            target,
            t,
            r,
            knee,
            Some(lra0),
            Some(lra),
            outcome,
            steps,
            passes,
            reason,
        ),
        step,
        blocks,
    })
}

/// The step-by-step walk exactly as the paper describes it (for tests and the documentation's
/// claim that the bisection finds the same step).
pub fn walk(signal: &[f32], sample_rate: u32, base: &MixParams) -> (usize, Vec<f64>) {
    let knee = base.get(ParamId::CompKnee);
    let mut ranges = Vec::new();
    for k in 0..=LAST_STEP {
        let lra = compressed_blocks(signal, sample_rate, &params_for(base, k, knee))
            .loudness_range()
            .unwrap_or(0.0);
        ranges.push(lra);
        if lra <= TARGET_LU {
            return (k, ranges);
        }
    }
    (LAST_STEP, ranges)
}

#[allow(clippy::too_many_arguments)]
fn decision(
    target_lu: f64,
    threshold_db: f32,
    ratio: f32,
    knee_db: f32,
    before: Option<f64>,
    after: Option<f64>,
    outcome: SearchOutcome,
    steps: Vec<SearchStep>,
    passes: usize,
    reason: String,
) -> CompressionDecision {
    CompressionDecision {
        target_lu: round2(target_lu),
        threshold_db,
        ratio,
        attack_ms: ATTACK_MS,
        release_ms: RELEASE_MS,
        knee_db,
        loudness_range_before_lu: before.map(round2),
        loudness_range_after_lu: after.map(round2),
        outcome,
        steps,
        passes,
        reason,
    }
}

fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}
