//! The assistant: from a vocal and its backing track to a [`MixSuggestion`] for the whole chain.
//!
//! Decoding-free: callers hand over [`Track`]s (the CLI builds them from files, the plug-in from
//! what it captured), and everything here runs at 44.1 kHz mono as the research did. The rules
//! run in chain order, each on the audio the previous stage produced:
//! EQ ([`masking_eq`]) → compressor ([`compression_search`]) → reverb (tempo rule) → level
//! ([`level_balance`]).

pub mod cnn;
mod cnn_assistant;
pub mod cnn_backend;
pub mod cnn_features;
pub mod compression_search;
pub mod level_balance;
pub mod loudness;
pub mod masking_eq;
pub mod mel;
pub mod spectrum;
pub mod suggestion;
pub mod tempo;
pub mod track;

pub use cnn_assistant::EQ_APPLIED_BANDS;
use loudness::Blocks;
use suggestion::*;
pub use suggestion::{Engine, MixSuggestion};
pub use track::{ANALYSIS_RATE, Track, TrackCapture, TrackInfo};

use crate::dsp::chain::CONTROL;
use crate::dsp::eq::Equalizer;
use crate::params::{EQ_BANDS, MixParams, ParamId};
use cnn::Task;
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
/// The research's dataset means for the reverb (seed 001).
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

/// The steps the analysis reports progress for, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    Features,
    Eq,
    Compression,
    Tempo,
    Level,
}

impl Step {
    pub fn label(self) -> &'static str {
        match self {
            Step::Features => "measuring",
            Step::Eq => "EQ",
            Step::Compression => "compression",
            Step::Tempo => "tempo",
            Step::Level => "level",
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
}

/// Runs the assistant: each stage decided by the rules or, as `input.engine` asks, by its CNN. `progress(step, fraction_of_whole)` is called along the way;
/// returning false cancels (the plug-in's "pressed again").
pub fn analyze(
    input: &AnalysisInput,
    progress: &mut dyn FnMut(Step, f32) -> bool,
) -> Result<MixSuggestion, AnalysisError> {
    let rate = ANALYSIS_RATE;
    let mut warnings = Vec::new();
    check(progress, Step::Features, 0.0)?;

    // ---- the inputs
    let vocal = input.vocal;
    let seconds = vocal.mono.len() as f64 / rate as f64;
    if seconds < 0.4 {
        return Err(AnalysisError::VocalTooShort { seconds });
    }
    let vocal_blocks = Blocks::of_mono(&vocal.mono, rate);
    let vocal_lufs = vocal_blocks
        .integrated()
        .ok_or(AnalysisError::SilentVocal)?;
    let vocal_played = vocal.info.played.integrated();
    if vocal_lufs < ALMOST_SILENT_LUFS {
        warnings.push(Warning::new(
            "vocal_almost_silent",
            format!("the vocal is almost silent ({vocal_lufs:.1} LUFS): the suggestion may follow noise rather than singing"),
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
    let backing = match input.backing {
        None => {
            warnings.push(Warning::new(
                "backing_missing",
                "no backing track: the EQ stays flat and the vocal level is left at 0 dB (both need the backing); the tempo comes from --tempo or is assumed",
            ));
            None
        }
        Some(b) => {
            if b.info.clipped_passages > 0 {
                warnings.push(Warning::new(
                    "backing_clipping",
                    format!("the backing clips in {} places", b.info.clipped_passages),
                ));
            }
            let mono_blocks = Blocks::of_mono(&b.mono, rate);
            match (mono_blocks.integrated(), b.info.played.integrated()) {
                (Some(mono_lufs), Some(played_lufs)) => Some((b, mono_lufs, played_lufs)),
                _ => {
                    warnings.push(Warning::new(
                        "backing_silent",
                        "the backing track is silent: the EQ stays flat and the vocal level is left at 0 dB",
                    ));
                    None
                }
            }
        }
    };

    // ---- features: spectra of both, the vocal-activity gate
    let mut analyser = spectrum::Analyser::new(rate);
    // with mel bands when a CNN may read them (the EQ model takes these very frames)
    let vf = analyser.frames(&vocal.mono, input.engine != Engine::Rules);
    check(progress, Step::Features, 0.1)?;
    let bf = backing.map(|(b, _, _)| analyser.frames(&b.mono, input.engine != Engine::Rules));
    check(progress, Step::Features, 0.2)?;
    let threshold = vocal_lufs + GATE_RELATIVE_LU;
    let kept: Vec<usize> = (0..vf.len())
        .filter(|&i| vf.loudness[i] as f64 >= threshold)
        .collect();
    let gate = Gate {
        rule: "frames more than 20 LU under the vocal's own integrated loudness are left out"
            .into(),
        relative_lu: GATE_RELATIVE_LU,
        threshold_lufs: Some(masking_eq::round2(threshold)),
        frames_kept: kept.len(),
        frames_total: vf.len(),
    };
    let mean_bands = |frames: &spectrum::Frames, kept: &[usize]| -> Option<[f64; 9]> {
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
    };
    let vocal_bands = mean_bands(&vf, &kept);

    // ---- EQ
    check(progress, Step::Eq, 0.25)?;
    let mut params = MixParams::default();
    let eq = match (&vocal_bands, &backing, &bf) {
        (None, _, _) => masking_eq::flat(
            None,
            "the vocal is shorter than one analysis frame (46 ms) above the gate: the EQ stays flat",
        ),
        (Some(v), Some((_, backing_mono_lufs, _)), Some(bf)) => {
            let in_backing: Vec<usize> = kept.iter().copied().filter(|&i| i < bf.len()).collect();
            match mean_bands(bf, &in_backing) {
                Some(b) => {
                    let shift = backing_mono_lufs - TARGET_BELOW - vocal_lufs;
                    masking_eq::decide(v, &b, shift)
                }
                None => {
                    warnings.push(Warning::new(
                        "backing_ends_early",
                        "the backing ends before the vocal starts: no overlap to compare, the EQ stays flat",
                    ));
                    masking_eq::flat(
                        Some(v),
                        "the vocal and the backing never sound together: the EQ stays flat",
                    )
                }
            }
        }
        (Some(v), _, _) => masking_eq::flat(
            Some(v),
            "no backing track to compare with: the EQ stays flat",
        ),
    };
    // the CNNs read the backing's frames the rules analysed (with mel when they may run)
    let mut cnn = CnnRun::new(input.engine, input.models, bf, &mut warnings);
    let eq = match cnn.predict_frames(Task::Eq, vocal_lufs, &vf, &mut warnings) {
        Some(predicted) => cnn_assistant::eq_decision(eq, &predicted),
        None => eq,
    };
    for (band, (_, gain_id, q_id)) in EQ_BANDS.iter().enumerate() {
        params.set(*gain_id, eq.bands.get(band).map_or(0.0, |b| b.gain_db));
        params.set(*q_id, masking_eq::Q);
    }

    // ---- compressor, on the EQ'd vocal
    let eq_vocal = eq_only(&vocal.mono, &params, rate);
    let eq_blocks = Blocks::of_mono(&eq_vocal, rate);
    check(progress, Step::Compression, 0.35)?;
    let cnn_range = cnn
        .predict(Task::Compression, &eq_vocal, &mut warnings)
        .map(|p| p[0] as f64);
    let target = cnn_range.unwrap_or(compression_search::TARGET_LU);
    let mut found = compression_search::search(
        &eq_vocal,
        rate,
        &eq_blocks,
        &params,
        target,
        &mut |passes| progress(Step::Compression, 0.35 + 0.1 * passes.min(5) as f32),
    )
    .ok_or(AnalysisError::Cancelled)?;
    if let Some(t) = cnn_range {
        found.decision.reason = format!(
            "the compression CNN asks for a loudness range of {t:.1} LU: {}",
            found.decision.reason
        );
    }
    params = compression_search::params_for(&params, found.step, params.get(ParamId::CompKnee));

    // ---- reverb, from the tempo
    check(progress, Step::Tempo, 0.85)?;
    let (tempo_bpm, source, confidence) = match (input.tempo_bpm, &backing) {
        (Some(t), _) if t.is_finite() && t > 0.0 => (t, TempoSource::Caller, None),
        (_, Some((b, _, _))) => match tempo::estimate(&b.mono, rate) {
            Some(e) => {
                if e.confidence < TEMPO_CONFIDENCE_LOW {
                    warnings.push(Warning::new(
                        "tempo_uncertain",
                        format!(
                            "the backing's tempo is uncertain ({:.1} BPM at confidence {:.2}): give it with --tempo if you know it",
                            e.bpm, e.confidence
                        ),
                    ));
                }
                (e.bpm, TempoSource::Estimated, Some(e.confidence))
            }
            None => {
                warnings.push(Warning::new(
                    "tempo_assumed",
                    format!("no beat found in the backing (or under {} s of it): {ASSUMED_TEMPO_BPM} BPM assumed for the reverb time; give it with --tempo", tempo::MIN_SECONDS),
                ));
                (ASSUMED_TEMPO_BPM, TempoSource::Assumed, None)
            }
        },
        _ => {
            warnings.push(Warning::new(
                "tempo_assumed",
                format!("tempo unknown: {ASSUMED_TEMPO_BPM} BPM assumed for the reverb time; give it with --tempo"),
            ));
            (ASSUMED_TEMPO_BPM, TempoSource::Assumed, None)
        }
    };
    let mut reverb = reverb_rule(&mut params, tempo_bpm, source, confidence);
    // the later models' inputs, rendered only if a model runs: the EQ'd vocal compressed, and
    // that through the reverb
    let compressed = std::cell::OnceCell::new();
    let compressed = |p: &MixParams| {
        compressed
            .get_or_init(|| compression_search::compressed(&eq_vocal, rate, p))
            .as_slice()
    };
    if let Some(predicted) = cnn.predict_with(Task::Reverb, || compressed(&params), &mut warnings) {
        let keyed = cnn.keyed(Task::Reverb, &predicted);
        cnn_assistant::apply_by_key(&mut params, &keyed);
        reverb.reverb_time_s = params.get(ParamId::ReverbTime);
        reverb.reason = format!(
            "the reverb CNN's settings: {:.2} s, room {:.1}, dry/wet {:.2} (the tempo rule would give {:.2} s)",
            params.get(ParamId::ReverbTime),
            params.get(ParamId::ReverbRoomSize),
            params.get(ParamId::ReverbDryWet),
            reverb.formula_time_s
        );
    }

    // ---- level, of the processed vocal against the backing
    check(progress, Step::Level, 0.9)?;
    // without a backing there is no balance to predict (the level stays at 0 dB)
    let cnn_balance = match backing {
        Some(_) => cnn
            .predict_with(
                Task::Level,
                || cnn_assistant::reverberated(compressed(&params), &params),
                &mut warnings,
            )
            .map(|p| p[0] as f64),
        None => None,
    };
    // the CNN predicts the vocal's loudness minus the backing's
    let target_below = cnn_balance.map_or(TARGET_BELOW, |d| -d);
    let level = match &backing {
        None => LevelDecision {
            target_below_backing_lu: TARGET_BELOW,
            backing_lufs: None,
            processed_vocal_lufs: None,
            gain_db: 0.0,
            reason: "no backing track: the vocal level stays at 0 dB".into(),
        },
        Some((_, _, backing_played)) => {
            let wet = level_balance::wet_impulse_response(&params, rate);
            let predicted = level_balance::processed_loudness(&found.blocks, &wet, rate);
            // a stereo vocal's width changes how loud it plays compared with its mono analysis signal
            let width = match vocal_played {
                Some(p) => p - (vocal_lufs + 10.0 * 2f64.log10()),
                None => 0.0,
            };
            let processed = predicted.map(|l| l + width);
            let spec = ParamId::LevelGain.spec();
            let want = processed.map_or(0.0, |p| backing_played - target_below - p);
            let gain = ((want * 10.0).round() / 10.0) as f32;
            let gain_set = gain.clamp(spec.min, spec.max);
            let mut reason = format!(
                "{gain_set:+.1} dB puts the processed vocal ({:.1} LUFS) {target_below:.2} LU under the backing ({backing_played:.1} LUFS)",
                processed.unwrap_or(f64::NEG_INFINITY)
            );
            if cnn_balance.is_some() {
                reason = format!(
                    "the level CNN asks for the vocal {target_below:.2} LU under the backing: {reason}"
                );
            }
            if gain_set != gain {
                reason = format!(
                    "{gain:+.1} dB would put the vocal {target_below:.2} LU under the backing; the fader stops at {gain_set:+.1} dB"
                );
                warnings.push(Warning::new("level_out_of_range", reason.clone()));
            }
            LevelDecision {
                target_below_backing_lu: masking_eq::round2(target_below),
                backing_lufs: Some(masking_eq::round2(*backing_played)),
                processed_vocal_lufs: processed.map(masking_eq::round2),
                gain_db: gain_set,
                reason,
            }
        }
    };
    params.set(ParamId::LevelGain, level.gain_db);
    check(progress, Step::Level, 1.0)?;

    let report = |t: &Track| InputReport {
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
    };
    Ok(MixSuggestion {
        format: FORMAT.into(),
        version: VERSION,
        engine: input.engine.name().into(),
        stages: cnn.deciders.clone(),
        cnn: cnn.report(),
        params,
        inputs: Inputs {
            vocal: report(vocal),
            backing: input.backing.map(report),
        },
        gate,
        eq,
        compression: found.decision,
        reverb,
        level,
        warnings,
    })
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

const TARGET_BELOW: f64 = level_balance::TARGET_BELOW_BACKING_LU;

/// The vocal through the engine's EQ alone, on the chain's control grid, at the analysis rate.
fn eq_only(signal: &[f32], params: &MixParams, rate: u32) -> Vec<f32> {
    let mut eq = Equalizer::new();
    eq.prepare(rate as f32);
    eq.set_params(params, true);
    let mut out = signal.to_vec();
    let mut unused = [0.0f32; CONTROL];
    for period in out.chunks_mut(CONTROL) {
        let n = period.len();
        eq.process(period, &mut unused[..n], false, true);
    }
    out
}

/// RT = −T/45 + 40/9 (seed 000, eq. 1), clamped to the reverb's range; the other reverb
/// parameters are the research's dataset means where it gives them (dry/wet, room size, fade-in)
/// and FdnReverb's own defaults for the shelving filters, which the research does not report
/// (low shelf 100 Hz, Q 0.5, +1 dB/s; high shelf 2 kHz, Q 0.5, −10 dB/s: a tail that darkens
/// as it decays).
fn reverb_rule(
    params: &mut MixParams,
    tempo_bpm: f64,
    source: TempoSource,
    confidence: Option<f64>,
) -> ReverbDecision {
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
