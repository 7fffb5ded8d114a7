//! The assistant: from a vocal and its backing track to a [`MixSuggestion`] for the whole chain.
//!
//! Decoding-free: callers hand over [`Track`]s (the CLI builds them from files, the plug-in from
//! what it captured), and everything here runs at 44.1 kHz mono as the research did. The rules
//! run in chain order, each on the audio the previous stage produced:
//! EQ ([`masking_eq`]) → compressor ([`compression_search`]) → reverb (tempo rule) → level
//! ([`level_balance`]).

// By what each part does (measuring, rules, the CNNs, references and targets), then the stage
// deciders that put them together; each module is also named at the root, where every caller
// has always found it.
pub mod measuring;
pub mod neural;
pub mod options;
pub mod references;
pub mod rules;
mod stages;
pub mod suggestion;

pub use automix_dsp::loudness;
pub use automix_inference::backend as cnn_backend;
pub use measuring::{balance_spread, gate, mel, sibilance, spectrum, tempo, track};
pub use neural::features as cnn_features;
pub use neural::models as cnn;
pub use references::{library_profile, reference, targets};
pub use rules::{compression_search, level_balance, masking_eq, ride_rule, tone_eq};

use automix_dsp::params::Stage;
use loudness::Blocks;

pub use neural::assistant::EQ_APPLIED_BANDS;
pub use options::AnalysisOptions;
pub use suggestion::{Engine, MixSuggestion};
pub use track::{ANALYSIS_RATE, Track, TrackCapture, TrackInfo};

use neural::assistant::CnnRun;

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
    /// A backing sampled under [`MIN_BACKING_RATE`]: it holds none of the upper octaves the
    /// vocal's tone and presence are judged against.
    BackingBandLimited {
        rate: u32,
    },
    Cancelled,
}

/// The lowest backing rate the analysis accepts: 16 kHz holds everything to 8 kHz (MIR-1K's
/// karaoke, which the training data uses); at 8 or 11 kHz the backing stops where a vocal's
/// presence starts, so every decision against it would be made against silence.
pub const MIN_BACKING_RATE: u32 = 16_000;

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
            AnalysisError::BackingBandLimited { rate } => write!(
                f,
                "the backing is sampled at {rate} Hz, so it holds nothing above {:.1} kHz, where a vocal's presence and air are judged against it: use the backing at its original rate ({} Hz or more)",
                *rate as f64 / 2000.0,
                MIN_BACKING_RATE
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
/// chain order, each on the vocal as the stages before it processed it ([`stages::DECIDERS`]).
/// `progress(step, fraction_of_whole)` is called along the way; returning false cancels (the
/// plug-in's "pressed again").
pub fn analyze(
    input: &AnalysisInput,
    progress: &mut dyn FnMut(Step, f32) -> bool,
) -> Result<MixSuggestion, AnalysisError> {
    let mut warnings = Vec::new();
    check(progress, Step::Measuring, 0.0)?;
    let levels = measuring::inputs::measure_inputs(input, &mut warnings)?;
    let mut features =
        measuring::inputs::measure_features(input, &levels, &mut warnings, progress)?;
    let built_in;
    let targets = match input.targets {
        Some(t) => t,
        None => {
            built_in = targets::Targets::built_in();
            &built_in
        }
    };
    // the backing's frames, analysed once, for the rules and the CNNs (with mel when they may run)
    let cnn = CnnRun::new(input.engine, input.models, features.backing.take());
    let mut run = stages::Run::new(input, targets, levels, features, cnn, warnings);
    for decide in stages::DECIDERS {
        decide(&mut run, progress)?;
    }
    Ok(run.suggestion())
}

pub(crate) fn check(
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
    measuring::inputs::mean_bands(&frames, &kept).map(|b| b.map(|x| x - lufs))
}
