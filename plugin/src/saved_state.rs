//! Saved states from the host (a project, a preset, an undo step), checked before nice-plug
//! loads them: any version of the plug-in may have written them, or something else entirely.
//!
//! - Every parameter comes back as it was saved, the plug-in's own three included: the
//!   assistant's engine, the Analyze & Mix trigger and the host's bypass. CLAP asks that a state reproduce every parameter's
//!   value (the host shows them and may automate them), and a user who saved while listening
//!   reopens the project as it was: listening, for a new pass (the audio heard before the save is
//!   not in the state), which ends when they press again, as before the save.
//! - A value outside its parameter's range (a range that narrowed since, a hand-edited file) is
//!   clamped into it; one that is not a number of the right kind is dropped and keeps its default.
//! - Keys this version does not know are dropped; keys it has that the state lacks (a parameter
//!   added since) keep their defaults. Every version so far uses the same keys for the same
//!   parameters in the same units, so no renaming is needed yet: a new version that renames or
//!   rescales a parameter maps it here, keyed on `state.version`.

use engine::params::Kind;
use engine::{PARAMS, ParamId};
use nice_plug::plugin::{ParamValue, PluginState};

use crate::host_params::{ANALYZE_KEY, BYPASS_KEY, ENGINE_KEY, engine_count};

pub fn filter(state: &mut PluginState) {
    state.params.retain(|key, value| {
        match (key.as_str(), &mut *value) {
            (ANALYZE_KEY | BYPASS_KEY, ParamValue::Bool(_)) => return true,
            (ENGINE_KEY, ParamValue::I32(i)) => {
                *i = (*i).clamp(0, engine_count() - 1);
                return true;
            }
            (ANALYZE_KEY | ENGINE_KEY | BYPASS_KEY, _) => return false,
            _ => {}
        }
        let Some(spec) = ParamId::from_key(key).map(ParamId::spec) else {
            return false;
        };
        match (spec.kind, value) {
            (Kind::Toggle, ParamValue::Bool(_)) => true,
            // the host sees a choice as its index
            (Kind::Choice(options), ParamValue::I32(v)) => {
                *v = (*v).clamp(0, options.len() as i32 - 1);
                true
            }
            (Kind::Continuous, ParamValue::F32(v)) if v.is_finite() => {
                *v = v.clamp(spec.min, spec.max);
                true
            }
            _ => false,
        }
    });
    debug_assert!(state.params.keys().all(|k| {
        [ANALYZE_KEY, ENGINE_KEY, BYPASS_KEY].contains(&k.as_str())
            || PARAMS.iter().any(|p| p.key == k)
    }));
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn state(params: &[(&str, ParamValue)]) -> PluginState {
        PluginState {
            version: "0.1.0".into(),
            params: params
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
            fields: BTreeMap::new(),
        }
    }

    #[test]
    fn every_parameter_is_restored_and_broken_values_are_clamped_or_dropped() {
        let mut s = state(&[
            (ANALYZE_KEY, ParamValue::Bool(true)),
            (ENGINE_KEY, ParamValue::I32(7)),
            (BYPASS_KEY, ParamValue::Bool(true)),
            ("eq_250hz_gain_db", ParamValue::F32(-4.0)),
            ("comp_ratio", ParamValue::F32(400.0)),
            ("level_gain_db", ParamValue::F32(f32::NAN)),
            ("reverb_bypass", ParamValue::F32(1.0)),
            ("reverb_fdn_size", ParamValue::I32(9)),
            ("a_parameter_from_the_future", ParamValue::F32(1.0)),
        ]);
        let mut wrong_kinds = state(&[
            (ANALYZE_KEY, ParamValue::F32(1.0)),
            (ENGINE_KEY, ParamValue::Bool(true)),
            (BYPASS_KEY, ParamValue::F32(1.0)),
        ]);
        filter(&mut wrong_kinds);
        assert!(wrong_kinds.params.is_empty());
        filter(&mut s);
        let keys: Vec<&str> = s.params.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                ANALYZE_KEY,
                ENGINE_KEY,
                BYPASS_KEY,
                "comp_ratio",
                "eq_250hz_gain_db",
                "reverb_fdn_size"
            ]
        );
        assert!(matches!(s.params[ANALYZE_KEY], ParamValue::Bool(true)));
        assert!(matches!(s.params[BYPASS_KEY], ParamValue::Bool(true)));
        assert!(matches!(s.params[ENGINE_KEY], ParamValue::I32(i) if i == engine_count() - 1));
        assert!(matches!(s.params["eq_250hz_gain_db"], ParamValue::F32(v) if v == -4.0));
        assert!(matches!(s.params["comp_ratio"], ParamValue::F32(v) if v == 20.0));
        let Kind::Choice(sizes) = ParamId::ReverbFdnSize.spec().kind else {
            panic!("the FDN size is a choice");
        };
        assert!(
            matches!(s.params["reverb_fdn_size"], ParamValue::I32(i) if i as usize == sizes.len() - 1)
        );
    }
}
