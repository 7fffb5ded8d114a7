//! The assistant: from a vocal and its backing track to a [`MixSuggestion`] for the whole chain.
//!
//! Decoding-free: callers hand over [`Track`]s (the CLI builds them from files, the plug-in from
//! what it captured), and everything here runs at 44.1 kHz mono as the research did. The rules
//! run in chain order, each on the audio the previous stage produced:
//! EQ ([`masking_eq`]) → compressor ([`compression_search`]) → reverb (tempo rule) → level
//! ([`level_balance`]).

pub mod balance_spread;
pub mod cnn;
mod cnn_assistant;
pub use automix_inference::backend as cnn_backend;
pub mod cnn_features;
pub mod compression_search;
pub mod gate;
pub mod level_balance;
pub mod library_profile;
pub use automix_dsp::loudness;
pub mod masking_eq;
pub mod mel;
pub mod reference;
pub mod ride_rule;
pub mod sibilance;
pub mod spectrum;
pub mod suggestion;
pub mod targets;
pub mod tempo;
pub mod tone_eq;
pub mod track;

pub use cnn_assistant::EQ_APPLIED_BANDS;
use loudness::Blocks;
use suggestion::*;
pub use suggestion::{Engine, MixSuggestion};
pub use track::{ANALYSIS_RATE, Track, TrackCapture, TrackInfo};

use automix_dsp::de_esser::DeEsser;
use automix_dsp::eq::Equalizer;
use automix_dsp::params::{EQ_BANDS, MixParams, ParamId, Stage};
use automix_dsp::processor::{prepared, process_mono};
use cnn_assistant::CnnRun;

/// Frames whose vocal loudness is more than this under the vocal's own integrated loudness are
/// left out of the spectral analysis (Tech 3342's relative gate; see [`Gate`]).
pub const GATE_RELATIVE_LU: f64 = -20.0;
/// Under this integrated loudness the vocal is "almost silent".
const ALMOST_SILENT_LUFS: f64 = -55.0;
/// Under this tempo confidence the estimate is reported as uncertain.
pub const TEMPO_CONFIDENCE_LOW: f64 = 0.3;
/// The tempo assumed when it is neither given nor measurable.
pub const ASSUMED_TEMPO_BPM: f64 = 120.0;
/// The research's dataset means for the reverb (Li's slides of the work; docs/references.md).
pub const REVERB_DRY_WET: f32 = 0.115;
pub const REVERB_ROOM_SIZE: f32 = 14.54;
pub const REVERB_FADE_IN_S: f32 = 0.68;

#[derive(Clone, Debug, PartialEq)]
pub enum AnalysisError {
    /// Nothing in the vocal is above BS.1770's −70 LUFS gate.
    SilentVocal,
    /// Under the 400 ms that one loudness measurement needs.
    VocalTooShort {
        seconds: f64,
    },
    Cancelled,
}

impl std::fmt::Display for AnalysisError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AnalysisError::SilentVocal => write!(
                f,
                "the vocal is silent (nothing above −70 LUFS): check that the right file or track is the vocal"
            ),
            AnalysisError::VocalTooShort { seconds } => write!(
                f,
                "the vocal is {seconds:.2} s long; the analysis needs at least 0.4 s (10 s or more for a useful mix)"
            ),
            AnalysisError::Cancelled => write!(f, "the analysis was cancelled"),
        }
    }
}

impl std::error::Error for AnalysisError {}

/// What the analysis reports progress for, in order: measuring the inputs, then each stage.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    Measuring,
    Stage(Stage),
}

impl Step {
    pub fn label(self) -> &'static str {
        match self {
            Step::Measuring => "measuring",
            Step::Stage(stage) => stage.label(),
        }
    }
}

pub struct AnalysisInput<'a> {
    pub vocal: &'a Track,
    pub backing: Option<&'a Track>,
    /// Known tempo (the user's or the host's), BPM.
    pub tempo_bpm: Option<f64>,
    pub engine: Engine,
    /// The CNN models, for [`Engine::Cnn`] and [`Engine::Auto`] (without them every stage uses
    /// the rules, with a warning).
    pub models: Option<&'a cnn::CnnModels>,
    /// What the level and the tone aim at; `None`: the built-in [`targets::Targets`].
    pub targets: Option<&'a targets::Targets>,
    /// Stages the user locked, kept as they are (`None`: every stage is decided).
    pub keep: Option<&'a targets::Kept>,
    /// Gate the vocal's frames by this vocal-activity detector instead of by loudness (`None`:
    /// the loudness gate, [`GATE_RELATIVE_LU`]).
    pub vad_gate: Option<&'a automix_separation::VadModel>,
}

/// Runs the assistant: each stage decided by the rules or, as `input.engine` asks, by its CNN, in
/// chain order, each on the vocal as the stages before it processed it. `progress(step,
/// fraction_of_whole)` is called along the way; returning false cancels (the plug-in's "pressed
/// again").
pub fn analyze(
    input: &AnalysisInput,
    progress: &mut dyn FnMut(Step, f32) -> bool,
) -> Result<MixSuggestion, AnalysisError> {
    let mut warnings = Vec::new();
    check(progress, Step::Measuring, 0.0)?;
    let levels = measure_inputs(input, &mut warnings)?;
    let features = measure_features(input, &levels, &mut warnings, progress)?;

    check(progress, Step::Stage(Stage::Eq), 0.25)?;
    let mut params = MixParams::default();
    let built_in;
    let targets = match input.targets {
        Some(t) => t,
        None => {
            built_in = targets::Targets::built_in();
            &built_in
        }
    };
    let eq = decide_eq_by_rules(&levels, &features, targets, &mut warnings);
    // the CNNs read the backing's frames the rules analysed (with mel when they may run)
    let mut cnn = CnnRun::new(input.engine, input.models, features.backing, &mut warnings);
    let mut eq = decide_eq_by_cnn(eq, &mut cnn, &levels, &features.vocal, &mut warnings);
    set_eq(&mut params, &eq);
    if let Some(kept) = input.keep.filter(|k| k.has(Stage::Eq)) {
        keep_stage(&mut params, kept, Stage::Eq);
        for (band, (_, gain_id, _)) in eq.bands.iter_mut().zip(EQ_BANDS.iter()) {
            band.gain_db = params.get(*gain_id);
        }
        eq.filters.clear();
        eq.reason = locked_reason(Stage::Eq);
    }

    let eq_vocal = eq_only(&input.vocal.mono, &params, ANALYSIS_RATE);
    let de_esser = if input.keep.is_some_and(|k| k.has(Stage::Eq)) {
        sibilance::DeEsserDecision {
            on: params.on(ParamId::DeessOn),
            reason: locked_reason(Stage::Eq),
            ..Default::default()
        }
    } else {
        let d = sibilance::decide(sibilance::measure(&eq_vocal, ANALYSIS_RATE));
        params.set(ParamId::DeessOn, if d.on { 1.0 } else { 0.0 });
        params.set(ParamId::DeessFreq, d.freq_hz);
        params.set(ParamId::DeessThreshold, d.threshold_db);
        params.set(ParamId::DeessRange, d.range_db);
        eq.reason = format!("{}; de-esser: {}", eq.reason, d.reason);
        d
    };
    // the later stages hear the vocal as the chain hands it on: de-essed, when the de-esser is on
    let eq_vocal = if params.on(ParamId::DeessOn) {
        let mut de_esser = prepared(DeEsser::new(), ANALYSIS_RATE as f32, &params);
        let mut out = eq_vocal;
        process_mono(&mut de_esser, &mut out);
        out
    } else {
        eq_vocal
    };
    let found = match input.keep.filter(|k| k.has(Stage::Compressor)) {
        Some(kept) => {
            keep_stage(&mut params, kept, Stage::Compressor);
            compression_search::kept(
                &eq_vocal,
                ANALYSIS_RATE,
                &params,
                locked_reason(Stage::Compressor),
            )
        }
        None => decide_compression(
            &eq_vocal,
            &mut params,
            &mut cnn,
            targets.reference.as_ref(),
            &mut warnings,
            progress,
        )?,
    };

    check(progress, Step::Stage(Stage::Reverb), 0.85)?;
    let tempo = decide_tempo(input.tempo_bpm, levels.backing.as_ref(), &mut warnings);
    let mut reverb = reverb_rule(&mut params, &tempo);
    // the later models' inputs, rendered only if a model runs: the EQ'd vocal compressed, and
    // that through the reverb
    let compressed = std::cell::OnceCell::new();
    let compressed = |p: &MixParams| {
        compressed
            .get_or_init(|| compression_search::compressed(&eq_vocal, ANALYSIS_RATE, p))
            .as_slice()
    };
    if let Some(predicted) = cnn.predict_with(Stage::Reverb, || compressed(&params), &mut warnings)
    {
        reverb_by_cnn(
            &mut params,
            &mut reverb,
            &cnn.keyed(Stage::Reverb, &predicted),
        );
    }
    if let Some(r) = targets
        .reference
        .as_ref()
        .filter(|r| r.measures.reverb_tail_db.is_some() && r.amount(Stage::Reverb) > 0.0)
    {
        // the vocal as it enters the reverb, from the compressor search's own pass (or, when the
        // compressor leaves it alone, the EQ'd vocal): no extra pass over the song
        let frames = match &found.frames {
            Some(f) => std::borrow::Cow::Borrowed(f.as_slice()),
            None => std::borrow::Cow::Owned(reference::frame_energies(&eq_vocal, ANALYSIS_RATE)),
        };
        reverb_toward_reference(&mut params, &mut reverb, r, &frames);
    }
    if let Some(kept) = input.keep.filter(|k| k.has(Stage::Reverb)) {
        keep_stage(&mut params, kept, Stage::Reverb);
        reverb.reverb_time_s = params.get(ParamId::ReverbTime);
        reverb.reason = locked_reason(Stage::Reverb);
    }

    check(progress, Step::Stage(Stage::Level), 0.9)?;
    // without a backing there is no balance to predict (the level stays at 0 dB)
    let cnn_balance = match levels.backing {
        Some(_) => cnn
            .predict_with(
                Stage::Level,
                || cnn_assistant::reverberated(compressed(&params), &params),
                &mut warnings,
            )
            .map(|p| p[0] as f64),
        None => None,
    };
    let mut level = decide_level(
        &levels,
        &found.blocks,
        &params,
        targets,
        cnn_balance,
        &mut warnings,
    );
    params.set(ParamId::LevelGain, level.gain_db);
    let mut ride = ride_rule::decide(
        &found.blocks.0,
        &input.vocal.info.played.0,
        levels
            .backing
            .as_ref()
            .map_or(&[][..], |b| &b.track.info.played.0),
        ride_balance(&level, &levels, compressed(&params), &params),
    );
    params.set(ParamId::RideOn, if ride.on { 1.0 } else { 0.0 });
    params.set(ParamId::RideBalance, ride.balance_db);
    level.reason = format!("{}; ride: {}", level.reason, ride.reason);
    if let Some(kept) = input.keep.filter(|k| k.has(Stage::Level)) {
        keep_stage(&mut params, kept, Stage::Level);
        level.gain_db = params.get(ParamId::LevelGain);
        level.reason = locked_reason(Stage::Level);
        ride.on = params.on(ParamId::RideOn);
        ride.reason = locked_reason(Stage::Level);
    }
    check(progress, Step::Stage(Stage::Level), 1.0)?;

    let mut suggestion = MixSuggestion {
        format: FORMAT.into(),
        version: VERSION,
        engine: input.engine.name().into(),
        stages: cnn.deciders.clone(),
        cnn: cnn.report(),
        params,
        inputs: Inputs {
            vocal: input_report(input.vocal),
            backing: input.backing.map(input_report),
        },
        gate: features.gate,
        eq,
        compression: found.decision,
        reverb,
        level,
        de_esser,
        ride,
        reference: targets.reference.as_ref().map(|r| ReferenceReport {
            source: r.source.clone(),
            measures: r.measures.clone(),
            amounts: Stage::ALL
                .iter()
                .map(|&s| (s.key().to_string(), masking_eq::round2(r.amount(s))))
                .collect(),
        }),
        locked: input
            .keep
            .map(|k| {
                Stage::ALL
                    .into_iter()
                    .filter(|s| k.has(*s))
                    .map(|s| s.key().to_string())
                    .collect()
            })
            .unwrap_or_default(),
        warnings,
    };
    suggestion.explain_declined_cnn();
    Ok(suggestion)
}

fn check(
    progress: &mut dyn FnMut(Step, f32) -> bool,
    step: Step,
    fraction: f32,
) -> Result<(), AnalysisError> {
    if progress(step, fraction) {
        Ok(())
    } else {
        Err(AnalysisError::Cancelled)
    }
}

/// The vocal's loudness, measured once for every stage.
struct VocalLevels {
    /// Integrated loudness of the mono analysis signal (what the gate and the EQ compare with).
    lufs: f64,
    /// Integrated loudness as the vocal plays in the stereo mix.
    played: Option<f64>,
}

/// A backing with something in it, and its loudness.
struct Backing<'a> {
    track: &'a Track,
    /// Integrated loudness of the mono analysis signal.
    mono_lufs: f64,
    /// Integrated loudness as it plays in the stereo mix (what the level balances against).
    played_lufs: f64,
}

struct Levels<'a> {
    vocal: VocalLevels,
    /// `None` when there is no backing or it is silent (a warning says which).
    backing: Option<Backing<'a>>,
}

/// Loudness of both inputs, and the warnings about them. A vocal too short or silent to analyse
/// is an error.
fn measure_inputs<'a>(
    input: &AnalysisInput<'a>,
    warnings: &mut Vec<Warning>,
) -> Result<Levels<'a>, AnalysisError> {
    let vocal = input.vocal;
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
struct Features {
    vocal: spectrum::Frames,
    backing: Option<spectrum::Frames>,
    /// The vocal's frames the gate keeps.
    kept: Vec<usize>,
    gate: Gate,
    /// The vocal's octave-band levels over the kept frames (none when no frame is kept).
    vocal_bands: Option<[f64; 9]>,
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

fn measure_features(
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
fn mean_bands(frames: &spectrum::Frames, kept: &[usize]) -> Option<[f64; 9]> {
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

/// The tone correction toward `targets.tone`, and the masking rule over the gated frames on the
/// vocal as the tone correction leaves it; flat, with the reason, when there is nothing to
/// compare.
fn decide_eq_by_rules(
    levels: &Levels,
    features: &Features,
    targets: &targets::Targets,
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
    let masking = match (&levels.backing, &features.backing) {
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

/// The vocal's tone as the EQ decision reads it: each octave band's level over the gated frames
/// relative to the vocal's integrated loudness, dB (the measure of [`tone_eq::ToneTarget`]).
/// `None` for a vocal too short or silent to analyse.
pub fn vocal_tone(vocal: &Track) -> Option<[f64; 9]> {
    let lufs = Blocks::of_mono(&vocal.mono, ANALYSIS_RATE).integrated()?;
    let frames = spectrum::Analyser::new(ANALYSIS_RATE).frames(&vocal.mono, false);
    let threshold = lufs + GATE_RELATIVE_LU;
    let kept: Vec<usize> = (0..frames.len())
        .filter(|&i| frames.loudness[i] as f64 >= threshold)
        .collect();
    mean_bands(&frames, &kept).map(|b| b.map(|x| x - lufs))
}

/// The EQ model's decision in place of the rules', where it is to decide.
fn decide_eq_by_cnn(
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

/// The compressor search on the EQ'd vocal, towards the rules' loudness range or the one the
/// compression model asks for; sets the compressor's parameters.
fn decide_compression(
    eq_vocal: &[f32],
    params: &mut MixParams,
    cnn: &mut CnnRun,
    reference: Option<&targets::ReferenceTarget>,
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

/// The fader that puts the processed vocal `target_below` LU under the backing: the rules'
/// 1.77 LU, or the balance the level model predicts (`cnn_balance`, vocal minus backing).
fn decide_level(
    levels: &Levels,
    compressed_blocks: &Blocks,
    params: &MixParams,
    targets: &targets::Targets,
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

fn input_report(t: &Track) -> InputReport {
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

/// The vocal through the engine's EQ alone, on the chain's control grid, at the analysis rate.
fn eq_only(signal: &[f32], params: &MixParams, rate: u32) -> Vec<f32> {
    let mut eq = prepared(Equalizer::new(), rate as f32, params);
    let mut out = signal.to_vec();
    process_mono(&mut eq, &mut out);
    out
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

/// The level target without a CNN: the built-in (or fitted) one moved toward the reference's.
fn rule_below(targets: &targets::Targets) -> f64 {
    match &targets.reference {
        Some(r) => match r.measures.vocal_minus_backing_lu {
            Some(vmb) => r.toward(Stage::Level, targets.below_backing_lu, -vmb),
            None => targets.below_backing_lu,
        },
        None => targets.below_backing_lu,
    }
}

/// Every parameter of `stage` as the user left it.
fn keep_stage(params: &mut MixParams, kept: &targets::Kept, stage: Stage) {
    for spec in stage.params() {
        params.set(spec.id, kept.params.get(spec.id));
    }
}

fn locked_reason(stage: Stage) -> String {
    format!(
        "locked: the {} stays as it was set (the later stages are decided with it)",
        stage.label()
    )
}

/// The dry/wet moved toward the reference's: the one at which this reverb gives the vocal (as it
/// enters the reverb) the reference vocal's tail ([`reference::match_dry_wet`]).
fn reverb_toward_reference(
    params: &mut MixParams,
    reverb: &mut ReverbDecision,
    r: &targets::ReferenceTarget,
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
