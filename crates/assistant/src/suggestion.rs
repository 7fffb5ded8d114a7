//! What the assistant decided and why: every parameter of the chain, the measurements behind each
//! stage's decision, and warnings. Serialises to versioned JSON (`FORMAT`, `VERSION`); the CLI
//! prints it and the plug-in shows it.

use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use automix_dsp::params::{MixParams, PARAMS, ParamId, Stage};

pub const FORMAT: &str = "vocal-automix/suggestion";
/// Bumped when a field changes meaning or disappears (adding fields does not bump it).
pub const VERSION: u32 = 1;

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct MixSuggestion {
    pub format: String,
    pub version: u32,
    /// The engine asked for: "rules", "cnn" or "auto" ([`Engine`]).
    pub engine: String,
    /// Which engine decided each stage (suggestions from before the CNN engine: all rules).
    #[serde(default)]
    pub stages: StageEngines,
    /// What the CNNs predicted and why each stage used them or not (absent for the rules).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cnn: Option<CnnReport>,
    /// Every chain parameter, by key, in the parameter table's order.
    #[serde(serialize_with = "params_ser", deserialize_with = "params_de")]
    pub params: MixParams,
    pub inputs: Inputs,
    pub gate: Gate,
    pub eq: EqDecision,
    pub compression: CompressionDecision,
    pub reverb: ReverbDecision,
    pub level: LevelDecision,
    /// The de-esser (part of the EQ stage), from the vocal's sibilance.
    #[serde(default)]
    pub de_esser: super::sibilance::DeEsserDecision,
    /// The ride (part of the level stage), from how much the balance moves.
    #[serde(default)]
    pub ride: super::ride_rule::RideDecision,
    /// The reference the stages moved toward, if one was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<ReferenceReport>,
    /// The stages the user locked (kept as they were), by key.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub locked: Vec<String>,
    pub warnings: Vec<Warning>,
}

/// The reference behind a suggestion: what it measured and how far each stage moved toward it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ReferenceReport {
    pub source: String,
    pub measures: super::reference::ReferenceMeasures,
    /// Per stage key, 0 … 1.
    pub amounts: std::collections::BTreeMap<String, f64>,
}

/// The assistant's engines (Li & Lerch offer the rules and the CNNs; Auto picks per stage).
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Engine {
    /// The rule-based assistant for every stage.
    #[default]
    Rules,
    /// The CNNs for every stage that has a usable model (the rules for the others, with a warning).
    Cnn,
    /// Per stage, the CNN where its held-out error beat the dataset mean's (the rules' baseline)
    /// in `models.json`, the rules elsewhere.
    Auto,
}

impl Engine {
    pub const ALL: [Engine; 3] = [Engine::Rules, Engine::Cnn, Engine::Auto];

    pub fn name(self) -> &'static str {
        match self {
            Engine::Rules => "rules",
            Engine::Cnn => "cnn",
            Engine::Auto => "auto",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Engine::Rules => "Rules",
            Engine::Cnn => "CNN",
            Engine::Auto => "Auto",
        }
    }

    pub fn from_name(name: &str) -> Option<Engine> {
        Engine::ALL.into_iter().find(|e| e.name() == name)
    }
}

/// Who decided a stage.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Decider {
    #[default]
    Rules,
    Cnn,
}

/// Who decided each stage; the fields are the stages' keys ([`Stage::key`]).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct StageEngines {
    pub eq: Decider,
    pub compressor: Decider,
    pub reverb: Decider,
    pub level: Decider,
}

impl StageEngines {
    pub fn get(&self, stage: Stage) -> Decider {
        match stage {
            Stage::Eq => self.eq,
            Stage::Compressor => self.compressor,
            Stage::Reverb => self.reverb,
            Stage::Level => self.level,
        }
    }

    pub fn set(&mut self, stage: Stage, decider: Decider) {
        let d = match stage {
            Stage::Eq => &mut self.eq,
            Stage::Compressor => &mut self.compressor,
            Stage::Reverb => &mut self.reverb,
            Stage::Level => &mut self.level,
        };
        *d = decider;
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct CnnReport {
    /// The ONNX implementation that ran the models ("tract (built in)", "ONNX Runtime 1.32.0 (…)").
    pub backend: String,
    /// "built in", or the folder the models came from.
    pub models: String,
    pub stages: Vec<CnnStage>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct CnnStage {
    /// The stage's key ([`Stage::key`]).
    pub stage: String,
    pub used: bool,
    /// Why the CNN did or did not decide this stage.
    pub reason: String,
    /// Feature blocks the prediction averages (0 when the model did not run).
    pub blocks: usize,
    /// Each output averaged over the blocks, in its units, in the model's order.
    pub predictions: Vec<Prediction>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Prediction {
    pub output: String,
    pub value: f32,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Inputs {
    pub vocal: InputReport,
    pub backing: Option<InputReport>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct InputReport {
    pub seconds: f64,
    pub sample_rate: u32,
    pub channels: usize,
    pub peak_dbfs: Option<f64>,
    /// As it plays in the stereo mix (a mono file on both sides), LUFS.
    pub integrated_lufs: Option<f64>,
    pub loudness_range_lu: Option<f64>,
    pub clipped_passages: usize,
}

/// How the vocal's frames are gated.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum GateKind {
    /// Frames within 20 LU of the vocal's integrated loudness.
    #[default]
    Loudness,
    /// Frames the vocal-activity detector hears singing in.
    Vad,
}

/// The vocal-activity gate: which analysis frames the EQ rule (and the CNN) look at.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Gate {
    #[serde(default)]
    pub kind: GateKind,
    /// How the threshold was set.
    pub rule: String,
    /// Relative to the vocal's integrated loudness (mono analysis signal), LU.
    pub relative_lu: f64,
    pub threshold_lufs: Option<f64>,
    pub frames_kept: usize,
    pub frames_total: usize,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct BandReport {
    pub hz: f32,
    /// Band level over the gated frames (mono analysis signals), dBFS.
    pub vocal_db: f64,
    pub backing_db: Option<f64>,
    /// Level minus the signal's mean over the nine bands (the rule's normalisation), dB.
    pub vocal_relative_db: f64,
    pub backing_relative_db: Option<f64>,
    pub vocal_essential: bool,
    pub backing_essential: bool,
    /// How far the backing sits above the vocal in this band once the vocal is at its target
    /// level (1.77 LU under the backing), dB; positive = the backing covers the vocal.
    pub backing_over_vocal_db: Option<f64>,
    /// How far the vocal's tone (the band relative to its loudness) sits from the target tone,
    /// dB; positive = more than the target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tone_off_target_db: Option<f64>,
    pub gain_db: f32,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct EqFilter {
    pub hz: f32,
    pub gain_db: f32,
    pub q: f32,
    pub reason: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct EqDecision {
    pub bands: Vec<BandReport>,
    pub filters: Vec<EqFilter>,
    pub reason: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct SearchStep {
    pub threshold_db: f32,
    pub ratio: f32,
    pub loudness_range_lu: Option<f64>,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum SearchOutcome {
    /// The EQ'd vocal's range was already at or under the target at the first setting.
    AlreadyWithin,
    /// A setting brought the range to the target.
    Reached,
    /// The threshold would have passed −35 dB; the last setting stays.
    StoppedAtFloor,
    /// Under 3 s of vocal: no loudness range to measure; the first setting stays.
    TooShort,
    /// The user locked the compressor: its settings stay as they were.
    Kept,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct CompressionDecision {
    pub target_lu: f64,
    pub threshold_db: f32,
    pub ratio: f32,
    pub attack_ms: f32,
    pub release_ms: f32,
    pub knee_db: f32,
    /// Of the EQ'd vocal, before and after the compressor.
    pub loudness_range_before_lu: Option<f64>,
    pub loudness_range_after_lu: Option<f64>,
    pub outcome: SearchOutcome,
    /// The settings the search measured, in the order it measured them.
    pub steps: Vec<SearchStep>,
    /// Song-long compressor passes run (steps that cannot touch the signal cost none).
    pub passes: usize,
    pub reason: String,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum TempoSource {
    /// Given by the caller (`--tempo`, or the host's transport).
    Caller,
    /// Estimated from the backing track.
    Estimated,
    /// Neither known nor measurable: 120 BPM assumed.
    Assumed,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ReverbDecision {
    pub tempo_bpm: f64,
    pub tempo_source: TempoSource,
    pub tempo_confidence: Option<f64>,
    /// −T/45 + 40/9 before clamping to the reverb's range, s.
    pub formula_time_s: f64,
    pub reverb_time_s: f32,
    pub reason: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct LevelDecision {
    pub target_below_backing_lu: f64,
    pub backing_lufs: Option<f64>,
    /// The vocal after EQ, compressor and reverb, at 0 dB vocal level, as it plays, LUFS.
    pub processed_vocal_lufs: Option<f64>,
    pub gain_db: f32,
    pub reason: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Warning {
    /// Stable identifier (`vocal_almost_silent`, `backing_missing`, …).
    pub code: String,
    pub message: String,
}

impl Warning {
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        Warning {
            code: code.into(),
            message: message.into(),
        }
    }
}

impl MixSuggestion {
    /// Why the stage was set as it is.
    pub fn reason_mut(&mut self, stage: Stage) -> &mut String {
        match stage {
            Stage::Eq => &mut self.eq.reason,
            Stage::Compressor => &mut self.compression.reason,
            Stage::Reverb => &mut self.reverb.reason,
            Stage::Level => &mut self.level.reason,
        }
    }

    /// Where the CNN engine was asked for and a stage's model did not decide, the stage's reason
    /// starts with why (so the editor, which shows the reason, says it too).
    pub fn explain_declined_cnn(&mut self) {
        let declined: Vec<(Stage, String)> = self
            .cnn
            .iter()
            .flat_map(|c| &c.stages)
            .filter(|st| !st.used)
            .filter_map(|st| {
                Stage::ALL
                    .into_iter()
                    .find(|s| s.key() == st.stage)
                    .map(|s| (s, st.reason.clone()))
            })
            .collect();
        for (stage, why) in declined {
            let r = self.reason_mut(stage);
            *r = format!("{why}. {r}");
        }
    }

    pub fn reason(&self, stage: Stage) -> &str {
        match stage {
            Stage::Eq => &self.eq.reason,
            Stage::Compressor => &self.compression.reason,
            Stage::Reverb => &self.reverb.reason,
            Stage::Level => &self.level.reason,
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a suggestion always serialises")
    }

    /// Reads a suggestion written by [`MixSuggestion::to_json`] (this or an older version).
    pub fn from_json(text: &str) -> Result<Self, String> {
        let s: MixSuggestion =
            serde_json::from_str(text).map_err(|e| format!("not a mix suggestion: {e}"))?;
        if s.format != FORMAT {
            return Err(format!("not a mix suggestion (format `{}`)", s.format));
        }
        if s.version > VERSION {
            return Err(format!(
                "a suggestion of version {} needs a newer Vocal Automix (this one reads up to {VERSION})",
                s.version
            ));
        }
        Ok(s)
    }
}

fn params_ser<S: Serializer>(p: &MixParams, s: S) -> Result<S::Ok, S::Error> {
    let mut map = s.serialize_map(Some(PARAMS.len()))?;
    for (id, v) in p.iter() {
        map.serialize_entry(id.key(), &v)?;
    }
    map.end()
}

/// Unknown keys are ignored and missing ones keep their defaults, so suggestions written by other
/// versions still load; values are conformed to their ranges.
fn params_de<'de, D: Deserializer<'de>>(d: D) -> Result<MixParams, D::Error> {
    let map = std::collections::BTreeMap::<String, f32>::deserialize(d)?;
    let mut p = MixParams::default();
    for (k, v) in map {
        if let Some(id) = ParamId::from_key(&k) {
            p.set(id, v);
        }
    }
    Ok(p)
}
