//! What the assistant aims at: the vocal's level against the backing and the vocal's tone. The
//! built-in targets come from professional mixes; a caller may give others (the evaluation fits
//! them on some songs and scores them on another).

use crate::level_balance::TARGET_BELOW_BACKING_LU;
use crate::reference::{LOW_CONFIDENCE, ReferenceMeasures, TONE_MIN_SHARE};
use crate::tone_eq::ToneTarget;
use automix_dsp::params::{MixParams, Stage};

#[derive(Clone, Debug, PartialEq)]
pub struct Targets {
    /// How far under the backing's integrated loudness the processed vocal is put, LU.
    pub below_backing_lu: f64,
    /// The tone the EQ moves the vocal toward; `None` leaves the tone to the masking rule alone.
    pub tone: Option<ToneTarget>,
    /// A reference the stages move toward, each by its amount ("mix like this record").
    pub reference: Option<ReferenceTarget>,
}

/// A reference's measures (one song's, several songs' mean, or a library profile's medians) and
/// how far each stage moves from its default target (the rules' mean, or its CNN's answer) toward
/// them: users find full matching hit and miss, so each stage has its own amount.
#[derive(Clone, Debug, PartialEq)]
pub struct ReferenceTarget {
    pub measures: ReferenceMeasures,
    /// What it is, for the reasons: a file name, "3 references", "the profile of 12 songs".
    pub source: String,
    /// Per stage in chain order ([`Stage::ALL`]), 0 (the default target) … 1 (the reference's).
    pub amounts: [f64; 4],
}

impl ReferenceTarget {
    pub fn amount(&self, stage: Stage) -> f64 {
        self.amounts[stage as usize].clamp(0.0, 1.0)
    }

    /// Whether the reference's tone is used in octave band `b`: its vocal holds at least
    /// [`TONE_MIN_SHARE`] of the band there (a reference measured before shares were: every band).
    pub fn trusts_band(&self, b: usize) -> bool {
        self.measures
            .tone_vocal_share
            .is_none_or(|s| s[b] >= TONE_MIN_SHARE)
    }

    /// How far the measure `stage` aims at can be trusted, 0 … 1 (1: measured from stems).
    pub fn confidence(&self, stage: Stage) -> f64 {
        self.measures.confidence_of(stage)
    }

    /// `default` moved toward `reference` by the stage's amount times the measure's confidence:
    /// a measure in doubt leans toward the assistant's own target by as much as the doubt.
    pub fn toward(&self, stage: Stage, default: f64, reference: f64) -> f64 {
        default + self.amount(stage) * self.confidence(stage) * (reference - default)
    }

    /// "from the reference (NAME, at 60 %): …", the start of a stage's reason, with the
    /// measure's confidence when it is in doubt and what that does.
    pub fn says(&self, stage: Stage, what: &str) -> String {
        let confidence = self.confidence(stage);
        let doubt = if confidence < LOW_CONFIDENCE {
            format!(
                "; measured with low confidence ({:.0} %), so the {} leans toward the assistant's own target",
                confidence * 100.0,
                stage.label()
            )
        } else if confidence < 0.95 {
            format!(
                ", followed as far as its confidence ({:.0} %)",
                confidence * 100.0
            )
        } else {
            String::new()
        };
        format!(
            "from the reference ({}{}{doubt}): {what}",
            self.source,
            match self.amount(stage) {
                a if a >= 1.0 => String::new(),
                a => format!(", at {:.0} %", a * 100.0),
            }
        )
    }
}

/// The stages the user locked: their parameters stay as `params` has them, and the later stages
/// are decided on the vocal as the locked settings leave it.
#[derive(Clone, Debug, PartialEq)]
pub struct Kept {
    pub params: MixParams,
    pub stages: Vec<Stage>,
}

impl Kept {
    pub fn has(&self, stage: Stage) -> bool {
        self.stages.contains(&stage)
    }
}

/// A reference's tone is one vocal, not a population: each band is trusted like a band where
/// professional vocals agree within this (dB), or as much as the built-in target trusts it when
/// that is more — so the correction follows the reference where it is clear and still spares
/// the bass bands, where vocals differ most and a departure is most often meant.
pub const REFERENCE_TONE_SPREAD_DB: f64 = 3.0;

/// The built-in tone target: the mean octave-band balance of the five professionally mixed
/// vocal stems in `../shared/audio` (`musdb-excerpts`, `musdb-preview`), each band relative to
/// the vocal's integrated loudness as the analysis measures it, and their spread. Printed by `automix eval --fit-targets ../shared/audio/musdb-excerpts
/// ../shared/audio/musdb-preview`; see docs/assistant.md.
pub const TONE_RELATIVE_DB: [f64; 9] = [
    -51.61, -31.02, -9.95, -4.99, -5.3, -10.3, -16.75, -18.66, -27.63,
];
pub const TONE_SPREAD_DB: [f64; 9] = [13.68, 8.62, 4.18, 2.79, 0.65, 2.46, 5.09, 3.23, 3.89];
pub const TONE_SOURCE: &str = "the mean of 5 professionally mixed vocals";

impl Targets {
    pub fn built_in() -> Targets {
        Targets {
            below_backing_lu: TARGET_BELOW_BACKING_LU,
            tone: Some(ToneTarget {
                relative_db: TONE_RELATIVE_DB,
                spread_db: TONE_SPREAD_DB,
                source: TONE_SOURCE.into(),
            }),
            reference: None,
        }
    }

    /// The tone the EQ aims at: the built-in (or fitted) one, moved toward the reference's by the
    /// EQ's amount.
    pub fn tone_target(&self) -> Option<ToneTarget> {
        let base = self.tone.clone()?;
        let Some((r, tone)) = self
            .reference
            .as_ref()
            .and_then(|r| r.measures.tone_relative_db.map(|t| (r, t)))
            .filter(|(r, _)| r.amount(Stage::Eq) > 0.0 && (0..9).any(|b| r.trusts_band(b)))
        else {
            return Some(base);
        };
        Some(ToneTarget {
            relative_db: std::array::from_fn(|b| {
                if r.trusts_band(b) {
                    crate::masking_eq::round2(r.toward(Stage::Eq, base.relative_db[b], tone[b]))
                } else {
                    base.relative_db[b]
                }
            }),
            spread_db: base.spread_db.map(|s| s.min(REFERENCE_TONE_SPREAD_DB)),
            source: r.says(
                Stage::Eq,
                &match (0..9).filter(|&b| r.trusts_band(b)).count() {
                    1 => "its vocal's tone in the one band where its vocal outweighs its backing"
                        .to_string(),
                    n => format!(
                        "its vocal's tone in the {n} bands where its vocal outweighs its backing"
                    ),
                },
            ),
        })
    }
}

impl Default for Targets {
    fn default() -> Self {
        Targets::built_in()
    }
}
