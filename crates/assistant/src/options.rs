//! How an analysis is asked for, built in one place for the command line and the plug-in: the
//! engine, the gate, the tempo, a reference's targets and the locked stages, with the models
//! they call for resolved once ([`AnalysisOptions::new`]), then lent to each analysis with its
//! tracks ([`AnalysisOptions::input`]).

use crate::cnn::CnnModels;
use crate::suggestion::{Engine, GateKind};
use crate::targets::{Kept, Targets};
use crate::{AnalysisInput, Track, gate};
use automix_separation::VadModel;

pub struct AnalysisOptions<'a> {
    pub engine: Engine,
    /// Known tempo (the user's or the host's), BPM; `None`: estimated from the backing.
    pub tempo_bpm: Option<f64>,
    /// What the level and the tone aim at; `None`: the built-in [`Targets`].
    pub targets: Option<&'a Targets>,
    /// Stages the user locked; `None`: every stage is decided.
    pub keep: Option<&'a Kept>,
    vad_gate: Option<&'static VadModel>,
    models: Option<&'static CnnModels>,
    /// What the user should hear about the options themselves (a VAD that would not load, so the
    /// loudness gate is used).
    pub notes: Vec<String>,
}

impl<'a> AnalysisOptions<'a> {
    /// Loads (once per process) the CNNs the engine calls for and the VAD the gate does.
    pub fn new(
        engine: Engine,
        gate: GateKind,
        tempo_bpm: Option<f64>,
        targets: Option<&'a Targets>,
        keep: Option<&'a Kept>,
    ) -> Self {
        let (vad_gate, missing) = gate::detector(gate);
        AnalysisOptions {
            engine,
            tempo_bpm,
            targets,
            keep,
            vad_gate,
            models: (engine != Engine::Rules).then(CnnModels::shared),
            notes: missing.into_iter().collect(),
        }
    }

    /// The analysis of `vocal` against `backing` as these options ask for it.
    pub fn input<'t>(&'t self, vocal: &'t Track, backing: Option<&'t Track>) -> AnalysisInput<'t> {
        AnalysisInput {
            vocal,
            backing,
            tempo_bpm: self.tempo_bpm,
            engine: self.engine,
            models: self.models,
            targets: self.targets,
            keep: self.keep,
            vad_gate: self.vad_gate,
        }
    }
}
