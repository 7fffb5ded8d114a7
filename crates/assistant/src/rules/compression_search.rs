//! The compression rule (Li & Lerch, §III-B): starting at threshold 0 dB and ratio 3:1 (attack
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
//! analysis rate and measures with [`crate::loudness`]; nothing is decoded or resampled again.

use crate::loudness::Blocks;
use crate::suggestion::{CompressionDecision, SearchOutcome, SearchStep};
use automix_dsp::chain::CONTROL;
use automix_dsp::compressor::Compressor;
use automix_dsp::params::{MixParams, ParamId};
use automix_dsp::processor::{prepared, process_mono};

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
    compressed_measures(signal, sample_rate, params).0
}

/// [`compressed_blocks`], and the compressed signal's mean square in frames of
/// [`crate::reference::TAIL_FRAME_SECONDS`] (what a reference's reverb is matched on), from the
/// same pass.
pub fn compressed_measures(
    signal: &[f32],
    sample_rate: u32,
    params: &MixParams,
) -> (Blocks, Vec<f64>) {
    let mut comp = prepared(Compressor::new(), sample_rate as f32, params);
    let mut meter = crate::loudness::BlockMeter::new(sample_rate, 1);
    let frame =
        ((sample_rate as f64 * crate::reference::TAIL_FRAME_SECONDS).round() as usize).max(1);
    let mut frames = Vec::with_capacity(signal.len() / frame);
    let (mut sum, mut filled) = (0.0f64, 0usize);
    let mut l = vec![0.0f32; BLOCK];
    for chunk in signal.chunks(BLOCK) {
        let n = chunk.len();
        l[..n].copy_from_slice(chunk);
        process_mono(&mut comp, &mut l[..n]);
        meter.push_mono(&l[..n]);
        for &x in &l[..n] {
            sum += if x.is_finite() {
                (x as f64).powi(2)
            } else {
                0.0
            };
            filled += 1;
            if filled == frame {
                frames.push(sum / frame as f64);
                sum = 0.0;
                filled = 0;
            }
        }
    }
    (meter.finish(), frames)
}

/// `signal` through the compressor alone with `params`, as [`compressed_blocks`] runs it.
pub fn compressed(signal: &[f32], sample_rate: u32, params: &MixParams) -> Vec<f32> {
    let mut comp = prepared(Compressor::new(), sample_rate as f32, params);
    let mut out = signal.to_vec();
    process_mono(&mut comp, &mut out);
    out
}

/// What the search found: the decision, and the measured blocks of the vocal as compressed.
pub struct SearchResult {
    pub decision: CompressionDecision,
    pub step: usize,
    pub blocks: Blocks,
    /// The compressed vocal's 10 ms frame energies, when the chosen setting compresses it
    /// (`None`: it leaves the signal as it is).
    pub frames: Option<Vec<f64>>,
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
    let Some(lra0) = uncompressed.loudness_range() else {
        return Some(too_short(signal, sample_rate, base, target));
    };
    let mut steps = Steps::new(signal, sample_rate, uncompressed, base, lra0);
    let step = steps.first_reaching(target, progress)?;
    let (blocks, lra, frames) = steps.measured[step].clone().expect("measured");
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
    let decision = Decision {
        target_lu: target,
        step,
        knee_db: steps.knee,
        before: Some(lra0),
        after: Some(lra),
        outcome,
        steps: steps.report(),
        passes: steps.passes_run(),
        reason,
    };
    Some(SearchResult {
        decision: decision.into(),
        step,
        blocks,
        frames,
    })
}

/// Under 3 s of vocal there is no loudness range: the first step, measured once for the level.
fn too_short(signal: &[f32], sample_rate: u32, base: &MixParams, target: f64) -> SearchResult {
    let knee = base.get(ParamId::CompKnee);
    let decision = Decision {
        target_lu: target,
        step: 0,
        knee_db: knee,
        before: None,
        after: None,
        outcome: SearchOutcome::TooShort,
        steps: Vec::new(),
        passes: 1,
        reason: "under 3 s of vocal: no loudness range to measure, so the compressor keeps the rule's first setting".into(),
    };
    SearchResult {
        decision: decision.into(),
        step: 0,
        blocks: compressed_blocks(signal, sample_rate, &params_for(base, 0, knee)),
        frames: None,
    }
}

/// The compressor as the user locked it (`params` holds its settings): no search, one pass to
/// measure what it does to the EQ'd vocal `signal`, for the stages after it.
pub fn kept(signal: &[f32], sample_rate: u32, params: &MixParams, reason: String) -> SearchResult {
    let (blocks, frames) = compressed_measures(signal, sample_rate, params);
    let before = Blocks::of_mono(signal, sample_rate).loudness_range();
    let decision = CompressionDecision {
        target_lu: TARGET_LU,
        threshold_db: params.get(ParamId::CompThreshold),
        ratio: params.get(ParamId::CompRatio),
        attack_ms: params.get(ParamId::CompAttack),
        release_ms: params.get(ParamId::CompRelease),
        knee_db: params.get(ParamId::CompKnee),
        loudness_range_before_lu: before.map(round2),
        loudness_range_after_lu: blocks.loudness_range().map(round2),
        outcome: SearchOutcome::Kept,
        steps: Vec::new(),
        passes: 1,
        reason,
    };
    SearchResult {
        decision,
        step: 0,
        blocks,
        frames: Some(frames),
    }
}

/// One step's measures: its blocks, its loudness range, and (for a step that compresses) the
/// compressed vocal's 10 ms frame energies.
type Measured = (Blocks, f64, Option<Vec<f64>>);

/// The steps measured so far: each one's blocks and loudness range, in the order they were.
struct Steps<'a> {
    signal: &'a [f32],
    sample_rate: u32,
    uncompressed: &'a Blocks,
    base: &'a MixParams,
    knee: f32,
    lra0: f64,
    peak_db: f64,
    measured: Vec<Option<Measured>>,
    order: Vec<usize>,
    passes: usize,
}

impl<'a> Steps<'a> {
    fn new(
        signal: &'a [f32],
        sample_rate: u32,
        uncompressed: &'a Blocks,
        base: &'a MixParams,
        lra0: f64,
    ) -> Self {
        Steps {
            signal,
            sample_rate,
            uncompressed,
            base,
            knee: base.get(ParamId::CompKnee),
            lra0,
            peak_db: 20.0 * (signal.iter().fold(0.0f32, |m, x| m.max(x.abs())) as f64).log10(),
            measured: vec![None; LAST_STEP + 1],
            order: Vec::new(),
            passes: 0,
        }
    }

    /// Step `k` cannot touch the signal: its threshold (less half the knee) is above the peak.
    fn inert(&self, k: usize) -> bool {
        (setting(k).0 - self.knee / 2.0) as f64 >= self.peak_db
    }

    /// Step `k`'s loudness range, measured once; `None` when `progress` cancels.
    fn range(&mut self, k: usize, progress: &mut dyn FnMut(usize) -> bool) -> Option<f64> {
        if let Some((_, lra, _)) = &self.measured[k] {
            return Some(*lra);
        }
        let (blocks, lra, frames) = if self.inert(k) {
            (self.uncompressed.clone(), self.lra0, None)
        } else {
            let params = params_for(self.base, k, self.knee);
            let (b, frames) = compressed_measures(self.signal, self.sample_rate, &params);
            self.passes += 1;
            if !progress(self.passes) {
                return None;
            }
            let lra = b.loudness_range().unwrap_or(0.0);
            (b, lra, Some(frames))
        };
        self.measured[k] = Some((blocks, lra, frames));
        self.order.push(k);
        Some(lra)
    }

    /// The first step reaching `target`, by bisection over the falling range (the last step when
    /// none does), measured. Step 0 first: a vocal already within the target (common) then costs
    /// one pass.
    fn first_reaching(
        &mut self,
        target: f64,
        progress: &mut dyn FnMut(usize) -> bool,
    ) -> Option<usize> {
        // LAST_STEP + 1 stands for "none does"
        let (mut lo, mut hi) = if self.range(0, progress)? <= target {
            (0, 0)
        } else {
            (1, LAST_STEP + 1)
        };
        while lo < hi {
            let mid = (lo + hi) / 2;
            if self.range(mid, progress)? <= target {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        let step = lo.min(LAST_STEP);
        self.range(step, progress)?;
        Some(step)
    }

    /// Compressor passes the search ran (inert steps cost none).
    fn passes_run(&self) -> usize {
        self.order.iter().filter(|&&k| !self.inert(k)).count()
    }

    /// The steps measured, in order, as the suggestion reports them.
    fn report(&self) -> Vec<SearchStep> {
        self.order
            .iter()
            .map(|&k| {
                let (t, r) = setting(k);
                SearchStep {
                    threshold_db: t,
                    ratio: r,
                    loudness_range_lu: self.measured[k].as_ref().map(|m| round2(m.1)),
                }
            })
            .collect()
    }
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

/// What the search settled on, before rounding for the suggestion.
struct Decision {
    target_lu: f64,
    step: usize,
    knee_db: f32,
    before: Option<f64>,
    after: Option<f64>,
    outcome: SearchOutcome,
    steps: Vec<SearchStep>,
    passes: usize,
    reason: String,
}

impl From<Decision> for CompressionDecision {
    fn from(d: Decision) -> Self {
        let (threshold_db, ratio) = setting(d.step);
        CompressionDecision {
            target_lu: round2(d.target_lu),
            threshold_db,
            ratio,
            attack_ms: ATTACK_MS,
            release_ms: RELEASE_MS,
            knee_db: d.knee_db,
            loudness_range_before_lu: d.before.map(round2),
            loudness_range_after_lu: d.after.map(round2),
            outcome: d.outcome,
            steps: d.steps,
            passes: d.passes,
            reason: d.reason,
        }
    }
}

fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}
