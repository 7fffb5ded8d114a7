//! The assistant's settings that are not mix parameters, saved with the project as one JSON
//! field of the plug-in's state: the reference (its file, and its measures once taken, so that
//! reopening the project costs no separation), each stage's amount and lock, the vocal gate, and
//! the last suggestion applied (its reasons, and the settings from before it for Revert).
//! A broken or foreign field loads as the defaults; values out of range are clamped.

use std::collections::BTreeMap;

use engine::analysis::MixSuggestion;
use engine::analysis::reference::ReferenceMeasures;
use engine::analysis::suggestion::GateKind;
use engine::{MixParams, ParamId};
use serde::{Deserialize, Serialize};

/// The state field's key.
pub const FIELD_KEY: &str = "assistant_settings";

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct AssistantSettings {
    pub reference: Option<ReferenceChoice>,
    /// Per stage in chain order, 0 (the default target) … 1 (the reference's).
    pub amounts: [f64; 4],
    /// Per stage in chain order: kept as it is at the next Analyze & Mix.
    pub locked: [bool; 4],
    pub gate: GateKind,
    /// The last suggestion applied; gone once reverted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_mix: Option<LastMix>,
}

/// A suggestion the plug-in applied, kept with the project: reopened, the editor shows its reasons
/// and Revert still puts back what was there before.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct LastMix {
    pub suggestion: MixSuggestion,
    /// Every parameter before the suggestion, by key (unknown keys are ignored on the way back).
    pub before: BTreeMap<String, f32>,
}

impl LastMix {
    pub fn new(suggestion: MixSuggestion, before: &MixParams) -> LastMix {
        let before = before
            .iter()
            .map(|(id, v)| (id.key().to_string(), v))
            .collect();
        LastMix { suggestion, before }
    }

    /// The settings from before the suggestion (a key this version lacks keeps its default).
    pub fn before(&self) -> MixParams {
        let mut p = MixParams::default();
        for (k, v) in &self.before {
            if let Some(id) = ParamId::from_key(k) {
                p.set(id, *v);
            }
        }
        p
    }
}

impl Default for AssistantSettings {
    fn default() -> Self {
        AssistantSettings {
            reference: None,
            amounts: [1.0; 4],
            locked: [false; 4],
            gate: GateKind::Vad,
            last_mix: None,
        }
    }
}

/// A reference song the user chose, and what became of it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ReferenceChoice {
    pub path: String,
    /// The file's size and modification time (ns since 1970) when it was measured: a file
    /// changed since is measured again.
    #[serde(default)]
    pub stamp: Option<(u64, u128)>,
    #[serde(default)]
    pub measures: Option<ReferenceMeasures>,
    #[serde(default)]
    pub notes: Vec<String>,
    /// Why it gave no measures (no singing, unreadable): shown in the editor.
    #[serde(default)]
    pub problem: Option<String>,
}

impl ReferenceChoice {
    pub fn new(path: String) -> Self {
        ReferenceChoice {
            path,
            stamp: None,
            measures: None,
            notes: Vec::new(),
            problem: None,
        }
    }

    /// Neither measured nor refused yet: the worker's next job.
    pub fn waiting(&self) -> bool {
        self.measures.is_none() && self.problem.is_none()
    }
}

/// The file's size and modification time, as [`ReferenceChoice::stamp`] keeps them.
pub fn stamp_of(path: &str) -> Option<(u64, u128)> {
    let meta = std::fs::metadata(path).ok()?;
    let modified = meta
        .modified()
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?;
    Some((meta.len(), modified.as_nanos()))
}

impl AssistantSettings {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("settings always serialise")
    }

    /// The settings a saved state holds; anything unreadable gives the defaults, and a
    /// reference whose file changed since it was measured is measured again.
    pub fn from_json(text: &str) -> AssistantSettings {
        let mut s: AssistantSettings = serde_json::from_str(text).unwrap_or_default();
        for a in &mut s.amounts {
            *a = if a.is_finite() {
                a.clamp(0.0, 1.0)
            } else {
                1.0
            };
        }
        if let Some(r) = &mut s.reference {
            if r.path.trim().is_empty() {
                s.reference = None;
            } else if let Some(now) = stamp_of(&r.path)
                && let Some(m) = &r.measures
                && (r.stamp != Some(now)
                    || (m.confidence.is_none() && !crate::reference_thread::is_profile(&r.path)))
            {
                // edited or replaced since, or measured by a version whose separator heard
                // produced vocals wrong (its measures carry no confidence): measure what is there
                // now. A file that is gone keeps its measures: they are still what the user chose
                // to mix like
                *r = ReferenceChoice::new(r.path.clone());
            }
        }
        s
    }

    pub fn amount(&self, i: usize) -> f64 {
        self.amounts.get(i).copied().unwrap_or(1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broken_or_foreign_settings_load_as_the_defaults_and_values_are_clamped() {
        for bad in ["", "{", "[1,2]", "null", "\"text\""] {
            assert_eq!(
                AssistantSettings::from_json(bad),
                AssistantSettings::default(),
                "{bad}"
            );
        }
        let s = AssistantSettings::from_json(
            r#"{"amounts": [2.0, -1.0, 0.5, 0.25], "locked": [true, false, false, true], "gate": "loudness", "future": 1}"#,
        );
        assert_eq!(s.amounts, [1.0, 0.0, 0.5, 0.25]);
        assert_eq!(s.locked, [true, false, false, true]);
        assert_eq!(s.gate, GateKind::Loudness);
        let back = AssistantSettings::from_json(&s.to_json());
        assert_eq!(back, s);
    }

    #[test]
    fn a_reference_whose_file_changed_or_whose_measures_are_old_is_measured_again() {
        let dir = std::env::temp_dir().join(format!("va-settings-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("song.wav");
        std::fs::write(&file, b"one").unwrap();
        let path = file.display().to_string();
        let measures = ReferenceMeasures {
            vocal_minus_backing_lu: Some(-2.0),
            vocal_loudness_range_lu: Some(5.0),
            tone_relative_db: None,
            tone_vocal_share: None,
            reverb_tail_db: None,
            sung_seconds: 30.0,
            seconds: 60.0,
            confidence: engine::analysis::reference::Confidence::of_separation(
                Some(-2.0),
                Some(-2.5),
                None,
                30.0,
            ),
        };
        // measured by a version before confidences: measured again
        let old = AssistantSettings {
            reference: Some(ReferenceChoice {
                stamp: stamp_of(&path),
                measures: Some(ReferenceMeasures {
                    confidence: None,
                    ..measures.clone()
                }),
                ..ReferenceChoice::new(path.clone())
            }),
            ..Default::default()
        };
        let old = AssistantSettings::from_json(&old.to_json());
        assert!(
            old.reference.as_ref().unwrap().waiting(),
            "no confidence: measured again"
        );
        let s = AssistantSettings {
            reference: Some(ReferenceChoice {
                stamp: stamp_of(&path),
                measures: Some(measures),
                ..ReferenceChoice::new(path.clone())
            }),
            ..Default::default()
        };
        let same = AssistantSettings::from_json(&s.to_json());
        assert!(
            !same.reference.as_ref().unwrap().waiting(),
            "unchanged: kept"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(&file, b"changed").unwrap();
        let changed = AssistantSettings::from_json(&s.to_json());
        assert!(
            changed.reference.as_ref().unwrap().waiting(),
            "changed: measured again"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
