//! What several subcommands share on the command line: the assistant's options (`--engine`,
//! `--tempo`) and the value enums over the engine's own names, so no list of engine or stage
//! names is kept here by hand.

use std::sync::LazyLock;

use clap::ValueEnum;
use clap::builder::PossibleValue;
use engine::analysis::Engine;
use engine::analysis::suggestion::GateKind;
use engine::params::Stage;

/// `--engine`: who decides each stage.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EngineChoice(pub Engine);

static ENGINES: LazyLock<Vec<EngineChoice>> =
    LazyLock::new(|| Engine::ALL.map(EngineChoice).to_vec());

impl ValueEnum for EngineChoice {
    fn value_variants<'a>() -> &'a [Self] {
        &ENGINES
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(PossibleValue::new(self.0.name()).help(match self.0 {
            Engine::Rules => "the research's rule-based assistant",
            Engine::Cnn => "its CNNs, the rules where a model cannot answer",
            Engine::Auto => {
                "per stage, the CNN only where it beat the dataset mean on held-out songs"
            }
        }))
    }
}

/// `--task` and `--predict`: a stage's CNN, by its model name (`eq`, `compression`, `reverb`,
/// `level`: [`Stage::model_name`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ModelChoice(pub Stage);

static MODELS: LazyLock<Vec<ModelChoice>> = LazyLock::new(|| Stage::ALL.map(ModelChoice).to_vec());

impl ValueEnum for ModelChoice {
    fn value_variants<'a>() -> &'a [Self] {
        &MODELS
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(PossibleValue::new(self.0.model_name()))
    }
}

/// The assistant's options, in `analyze`, `mix` and `batch`.
#[derive(clap::Args, Clone, Copy, Debug)]
pub struct AssistantArgs {
    /// The song's tempo in BPM, if known (otherwise estimated from the backing; in a batch, one
    /// tempo for every song)
    #[arg(long, value_parser = tempo_bpm)]
    pub tempo: Option<f64>,
    /// Who decides each stage
    #[arg(long, value_enum, default_value_t = EngineChoice(Engine::Rules))]
    pub engine: EngineChoice,
    /// Which of the vocal's frames the analysis reads: those the vocal-activity detector hears
    /// singing in, or those within 20 LU of its loudness (docs/assistant.md compares them)
    #[arg(long, value_enum, default_value_t = GateChoice::Vad)]
    pub gate: GateChoice,
}

/// `--gate`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum GateChoice {
    Vad,
    Loudness,
}

impl GateChoice {
    pub fn kind(self) -> GateKind {
        match self {
            GateChoice::Vad => GateKind::Vad,
            GateChoice::Loudness => GateKind::Loudness,
        }
    }
}

fn tempo_bpm(s: &str) -> Result<f64, String> {
    let v: f64 = s
        .parse()
        .map_err(|_| format!("`{s}` is not a tempo in BPM"))?;
    tempo_in_range(v)
}

/// A tempo the assistant takes: 20 to 400 BPM.
pub fn tempo_in_range(v: f64) -> Result<f64, String> {
    if (20.0..=400.0).contains(&v) {
        Ok(v)
    } else {
        Err("the tempo is 20 to 400 BPM".into())
    }
}

/// A share of something, from 0 to under 1.
pub fn share(s: &str) -> Result<f64, String> {
    let v: f64 = s.parse().map_err(|_| format!("`{s}` is not a number"))?;
    if (0.0..1.0).contains(&v) {
        Ok(v)
    } else {
        Err("a share is from 0 to under 1".into())
    }
}
