//! The assistant's stages as one pipeline: each stage is a decider of one shape (its rules, its
//! CNN where one may decide, the reference's pull at its amount, the user's lock), run in chain
//! order over the vocal as the stages before it left it. Adding a stage is adding a decider to
//! [`DECIDERS`]; [`super::analyze`] does not change.

mod compressor;
mod de_esser;
mod eq;
mod level;
mod reverb;

use std::cell::OnceCell;

use automix_dsp::params::{MixParams, Stage};

use crate::compression_search::{self, SearchResult};
use crate::measuring::inputs::{Features, Levels, input_report};
use crate::neural::assistant::CnnRun;
use crate::ride_rule::RideDecision;
use crate::sibilance::DeEsserDecision;
use crate::suggestion::{
    EqDecision, FORMAT, Inputs, LevelDecision, MixSuggestion, ReferenceReport, ReverbDecision,
    VERSION, Warning,
};
use crate::targets::{Kept, Targets};
use crate::{ANALYSIS_RATE, AnalysisError, AnalysisInput, Step, masking_eq};

/// The progress callback: returning false cancels.
pub(crate) type Progress<'p> = dyn FnMut(Step, f32) -> bool + 'p;

/// One stage's decision, made on [`Run`] and written into it.
pub(crate) type Decider = fn(&mut Run, &mut Progress) -> Result<(), AnalysisError>;

/// The deciders in chain order. The de-esser sits in the EQ stage (its lock is the EQ's).
pub(crate) const DECIDERS: [Decider; 5] = [
    eq::decide,
    de_esser::decide,
    compressor::decide,
    reverb::decide,
    level::decide,
];

/// What the deciders share as they run: the measures, the parameters so far, the vocal as the
/// stages so far hand it on, and each stage's decision once made.
pub(crate) struct Run<'a> {
    input: &'a AnalysisInput<'a>,
    targets: &'a Targets,
    levels: Levels<'a>,
    features: Features,
    cnn: CnnRun<'a>,
    params: MixParams,
    warnings: Vec<Warning>,
    /// The vocal as the EQ and the de-esser hand it on: what the compressor hears.
    vocal: Vec<f32>,
    /// That vocal compressed, rendered the first time a later stage needs it.
    compressed: OnceCell<Vec<f32>>,
    eq: Option<EqDecision>,
    de_esser: Option<DeEsserDecision>,
    compression: Option<SearchResult>,
    reverb: Option<ReverbDecision>,
    level: Option<LevelDecision>,
    ride: Option<RideDecision>,
}

impl<'a> Run<'a> {
    pub fn new(
        input: &'a AnalysisInput<'a>,
        targets: &'a Targets,
        levels: Levels<'a>,
        features: Features,
        cnn: CnnRun<'a>,
        warnings: Vec<Warning>,
    ) -> Self {
        Run {
            input,
            targets,
            levels,
            features,
            cnn,
            params: MixParams::default(),
            warnings,
            vocal: Vec::new(),
            compressed: OnceCell::new(),
            eq: None,
            de_esser: None,
            compression: None,
            reverb: None,
            level: None,
            ride: None,
        }
    }

    /// The user's settings of `stage` when they locked it.
    fn locked(&self, stage: Stage) -> Option<&'a Kept> {
        self.input.keep.filter(|k| k.has(stage))
    }

    /// Every parameter of `stage` as the user left it.
    fn keep(&mut self, kept: &Kept, stage: Stage) {
        for spec in stage.params() {
            self.params.set(spec.id, kept.params.get(spec.id));
        }
    }

    /// The suggestion, once every decider has run.
    pub fn suggestion(self) -> MixSuggestion {
        let undecided = "every decider runs before the suggestion";
        let mut suggestion = MixSuggestion {
            format: FORMAT.into(),
            version: VERSION,
            engine: self.input.engine.name().into(),
            stages: self.cnn.deciders.clone(),
            cnn: self.cnn.report(),
            params: self.params,
            inputs: Inputs {
                vocal: input_report(self.input.vocal),
                backing: self.input.backing.map(input_report),
            },
            gate: self.features.gate,
            eq: self.eq.expect(undecided),
            compression: self.compression.expect(undecided).decision,
            reverb: self.reverb.expect(undecided),
            level: self.level.expect(undecided),
            de_esser: self.de_esser.expect(undecided),
            ride: self.ride.expect(undecided),
            reference: self.targets.reference.as_ref().map(|r| ReferenceReport {
                source: r.source.clone(),
                measures: r.measures.clone(),
                amounts: Stage::ALL
                    .iter()
                    .map(|&s| (s.key().to_string(), masking_eq::round2(r.amount(s))))
                    .collect(),
            }),
            locked: self
                .input
                .keep
                .map(|k| {
                    Stage::ALL
                        .into_iter()
                        .filter(|s| k.has(*s))
                        .map(|s| s.key().to_string())
                        .collect()
                })
                .unwrap_or_default(),
            warnings: self.warnings,
        };
        suggestion.explain_declined_cnn();
        suggestion
    }
}

/// The vocal the compressor hears, compressed (once, the first time it is asked for).
fn compressed<'c>(cell: &'c OnceCell<Vec<f32>>, vocal: &[f32], params: &MixParams) -> &'c [f32] {
    cell.get_or_init(|| compression_search::compressed(vocal, ANALYSIS_RATE, params))
}

fn locked_reason(stage: Stage) -> String {
    format!(
        "locked: the {} stays as it was set (the later stages are decided with it)",
        stage.label()
    )
}
