//! The host's parameters, generated from the engine's parameter table (`engine::params::PARAMS`):
//! one host parameter per entry, with the entry's key as its stable ID, its name, unit, range and
//! default, and the engine's own text conversions (values display and parse as a mixing engineer
//! writes them). Nothing here lists parameters by hand.
//!
//! Continuous parameters become float parameters, switches booleans, choices (the FDN size)
//! integers over the choice's index. A logarithmic parameter's host range is skewed so that the
//! geometric middle of its range sits at the middle of the knob.

use std::sync::Arc;

use engine::analysis::Engine;
use engine::params::{Kind, PARAMS, ParamSpec, Scale};
use engine::{MixParams, ParamId};
use nice_plug::prelude::*;
use parking_lot::RwLock;
use std::collections::BTreeMap;

use crate::assistant_settings::{AssistantSettings, FIELD_KEY};

/// One host parameter, of the kind its table entry asks for.
enum HostParam {
    Float(FloatParam),
    Bool(BoolParam),
    Choice(IntParam),
}

pub struct AutomixParams {
    /// Indexed by `ParamId as usize`; never resized, so the pointers handed to the wrapper stay
    /// valid for the object's life.
    params: Vec<HostParam>,
    /// Analyze & Mix: on while listening. A host parameter, so it works without the editor and
    /// can be automated; turning it off ends the pass (the plug-in turns it off itself when it
    /// stops listening on its own). Not a mix setting, so not in the engine's table.
    analyze: BoolParam,
    /// Who decides each stage when Analyze & Mix runs: Rules, CNN or Auto
    /// (`engine::analysis::Engine`). Saved with the project like any parameter.
    engine: IntParam,
    /// The host's bypass button (`make_bypass`: VST3's bypass flag, CLAP's is-bypass), heard as
    /// [`crate::host_bypass`] says. Not a mix setting, so not in the engine's table.
    bypass: BoolParam,
    /// The reference, the amounts, the locks and the gate: saved with the project as a state
    /// field, not host parameters (nothing to automate).
    pub settings: Arc<RwLock<AssistantSettings>>,
}

/// The plug-in's own controls beside the mix parameters: (stable key, name, group).
pub const ANALYZE_KEY: &str = "analyze_mix";
const ANALYZE_NAME: &str = "Analyze & Mix";
pub const ENGINE_KEY: &str = "assistant_engine";
const ENGINE_NAME: &str = "Assistant Engine";
const ASSISTANT_GROUP: &str = "Assistant";
pub const BYPASS_KEY: &str = "bypass";
const BYPASS_NAME: &str = "Bypass";

fn float_param(spec: &'static ParamSpec) -> FloatParam {
    let range = match spec.scale {
        Scale::Linear => FloatRange::Linear {
            min: spec.min,
            max: spec.max,
        },
        Scale::Logarithmic => {
            // ((mid − min)/(max − min))^factor = 0.5 at the geometric middle
            let mid = (spec.min * spec.max).sqrt();
            let x = (mid - spec.min) / (spec.max - spec.min);
            FloatRange::Skewed {
                min: spec.min,
                max: spec.max,
                factor: 0.5f32.ln() / x.ln(),
            }
        }
    };
    FloatParam::new(spec.name, spec.default, range)
        .with_value_to_string(Arc::new(move |v| spec.format(v)))
        .with_string_to_value(Arc::new(move |s| spec.parse(s)))
}

impl Default for AutomixParams {
    fn default() -> Self {
        let params = PARAMS
            .iter()
            .map(|spec| match spec.kind {
                Kind::Continuous => HostParam::Float(float_param(spec)),
                Kind::Toggle => HostParam::Bool(
                    BoolParam::new(spec.name, spec.default >= 0.5)
                        .with_value_to_string(Arc::new(move |b| {
                            spec.format(if b { 1.0 } else { 0.0 })
                        }))
                        .with_string_to_value(Arc::new(move |s| spec.parse(s).map(|v| v >= 0.5))),
                ),
                Kind::Choice(options) => {
                    let default =
                        options.iter().position(|&o| o == spec.default).unwrap_or(0) as i32;
                    HostParam::Choice(
                        IntParam::new(
                            spec.name,
                            default,
                            IntRange::Linear {
                                min: 0,
                                max: options.len() as i32 - 1,
                            },
                        )
                        .with_value_to_string(Arc::new(move |i| {
                            spec.format(options[(i.max(0) as usize).min(options.len() - 1)])
                        }))
                        .with_string_to_value(Arc::new(move |s| {
                            let v = spec.parse(s)?;
                            options.iter().position(|&o| o == v).map(|i| i as i32)
                        })),
                    )
                }
            })
            .collect();
        AutomixParams {
            params,
            analyze: BoolParam::new(ANALYZE_NAME, false)
                .with_value_to_string(Arc::new(|on| {
                    if on { "Listening" } else { "Off" }.to_string()
                }))
                .with_string_to_value(Arc::new(|s| match s.trim().to_lowercase().as_str() {
                    "listening" | "on" | "1" => Some(true),
                    "off" | "0" => Some(false),
                    _ => None,
                })),
            engine: IntParam::new(
                ENGINE_NAME,
                0,
                IntRange::Linear {
                    min: 0,
                    max: Engine::ALL.len() as i32 - 1,
                },
            )
            .with_value_to_string(Arc::new(|i| engine_of(i).label().to_string()))
            .with_string_to_value(Arc::new(|s| {
                let s = s.trim().to_lowercase();
                Engine::ALL
                    .iter()
                    .position(|e| e.name() == s)
                    .map(|i| i as i32)
            })),
            bypass: BoolParam::new(BYPASS_NAME, false).make_bypass(),
            settings: Arc::new(RwLock::new(AssistantSettings::default())),
        }
    }
}

/// How many engines the Assistant Engine parameter chooses from.
pub fn engine_count() -> i32 {
    Engine::ALL.len() as i32
}

fn engine_of(index: i32) -> Engine {
    Engine::ALL[(index.max(0) as usize).min(Engine::ALL.len() - 1)]
}

/// One host parameter, for an editor control of its kind.
pub enum HostParamRef<'a> {
    Float(&'a FloatParam),
    Bool(&'a BoolParam),
    Choice(&'a IntParam),
}

impl AutomixParams {
    pub fn host_param(&self, id: ParamId) -> HostParamRef<'_> {
        match &self.params[id as usize] {
            HostParam::Float(p) => HostParamRef::Float(p),
            HostParam::Bool(p) => HostParamRef::Bool(p),
            HostParam::Choice(p) => HostParamRef::Choice(p),
        }
    }

    /// The plain value of one parameter, in the engine's terms.
    pub fn value(&self, id: ParamId) -> f32 {
        let spec = id.spec();
        match &self.params[id as usize] {
            HostParam::Float(p) => p.value(),
            HostParam::Bool(p) => {
                if p.value() {
                    1.0
                } else {
                    0.0
                }
            }
            HostParam::Choice(p) => match spec.kind {
                Kind::Choice(options) => {
                    options[(p.value().max(0) as usize).min(options.len() - 1)]
                }
                _ => spec.default,
            },
        }
    }

    /// The assistant's engine for the next analysis.
    pub fn engine(&self) -> Engine {
        engine_of(self.engine.value())
    }

    /// Chooses the assistant's engine as the user would (main thread).
    pub fn set_engine(&self, setter: &ParamSetter, engine: Engine) {
        let i = Engine::ALL.iter().position(|e| *e == engine).unwrap_or(0) as i32;
        if self.engine.value() != i {
            gesture(setter, &self.engine, i);
        }
    }

    /// Whether the host's bypass button is down.
    pub fn bypassed(&self) -> bool {
        self.bypass.value()
    }

    /// Whether Analyze & Mix is listening.
    pub fn analyze_on(&self) -> bool {
        self.analyze.value()
    }

    /// Sets every parameter that differs from `target` as the user would: a begin, set, end
    /// gesture each, so the host records undo and automation (main thread). Returns how many
    /// changed.
    pub fn set_as_user(&self, setter: &ParamSetter, target: &MixParams) -> usize {
        let mut changed = 0;
        for spec in PARAMS {
            let want = target.get(spec.id);
            if self.value(spec.id) == want {
                continue;
            }
            changed += 1;
            match &self.params[spec.id as usize] {
                HostParam::Float(p) => gesture(setter, p, want),
                HostParam::Bool(p) => gesture(setter, p, want >= 0.5),
                HostParam::Choice(p) => {
                    if let Kind::Choice(options) = spec.kind {
                        let i = options.iter().position(|&o| o == want).unwrap_or(0);
                        gesture(setter, p, i as i32);
                    }
                }
            }
        }
        changed
    }

    /// Turns Analyze & Mix on or off as the user would (main thread).
    pub fn set_analyze(&self, setter: &ParamSetter, on: bool) {
        if self.analyze.value() != on {
            gesture(setter, &self.analyze, on);
        }
    }

    /// Every parameter's current value into `out` (no allocation: the audio thread calls this).
    pub fn read_into(&self, out: &mut MixParams) {
        for spec in PARAMS {
            out.set(spec.id, self.value(spec.id));
        }
    }
}

fn gesture<P: Param>(setter: &ParamSetter, param: &P, value: P::Plain) {
    setter.begin_set_parameter(param);
    setter.set_parameter(param, value);
    setter.end_set_parameter(param);
}

// SAFETY: the pointers point into `self.params`, `self.analyze` and `self.engine`, which are never resized or
// moved out of the object after construction, so they live as long as the object does.
unsafe impl Params for AutomixParams {
    fn param_map(&self) -> Vec<(String, ParamPtr, String)> {
        PARAMS
            .iter()
            .zip(&self.params)
            .map(|(spec, p)| {
                let ptr = match p {
                    HostParam::Float(p) => p.as_ptr(),
                    HostParam::Bool(p) => p.as_ptr(),
                    HostParam::Choice(p) => p.as_ptr(),
                };
                (spec.key.to_string(), ptr, spec.stage.name().to_string())
            })
            .chain([
                (
                    ANALYZE_KEY.to_string(),
                    self.analyze.as_ptr(),
                    ASSISTANT_GROUP.to_string(),
                ),
                (
                    ENGINE_KEY.to_string(),
                    self.engine.as_ptr(),
                    ASSISTANT_GROUP.to_string(),
                ),
                (BYPASS_KEY.to_string(), self.bypass.as_ptr(), String::new()),
            ])
            .collect()
    }

    fn serialize_fields(&self) -> BTreeMap<String, String> {
        BTreeMap::from([(FIELD_KEY.to_string(), self.settings.read().to_json())])
    }

    fn deserialize_fields(&self, serialized: &BTreeMap<String, String>) {
        // a state without the field (saved before it existed) keeps the defaults
        *self.settings.write() = serialized
            .get(FIELD_KEY)
            .map(|t| AssistantSettings::from_json(t))
            .unwrap_or_default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_table_entry_is_a_host_parameter_keyed_by_its_stable_key() {
        let p = AutomixParams::default();
        let map = p.param_map();
        assert_eq!(map.len(), PARAMS.len() + 3);
        assert_eq!(map[PARAMS.len()].0, ANALYZE_KEY);
        assert_eq!(map[PARAMS.len() + 1].0, ENGINE_KEY);
        assert_eq!(map[PARAMS.len() + 2].0, BYPASS_KEY);
        // SAFETY: the pointer is the bypass parameter of `p`, alive here
        assert!(unsafe { map[PARAMS.len() + 2].1.flags() }.contains(ParamFlags::BYPASS));
        for ((key, _, group), spec) in map.iter().zip(PARAMS) {
            assert_eq!(key, spec.key);
            assert_eq!(group, spec.stage.name());
        }
        // and the defaults read back as the engine's defaults
        let mut values = MixParams::default();
        values.set(ParamId::LevelGain, 7.0);
        p.read_into(&mut values);
        assert_eq!(values, MixParams::default());
    }

    #[test]
    fn host_text_is_the_engines_text_both_ways() {
        let p = AutomixParams::default();
        for ((_, ptr, _), spec) in p.param_map().iter().zip(PARAMS) {
            // SAFETY: `p` outlives these uses of its own pointers.
            unsafe {
                let n = ptr.default_normalized_value();
                let text = ptr.normalized_value_to_string(n, true);
                // the host's text is the engine's text of the value the host holds
                let plain = match spec.kind {
                    Kind::Choice(options) => options[ptr.preview_plain(n) as usize],
                    _ => ptr.preview_plain(n),
                };
                assert_eq!(text, spec.format(plain), "{}", spec.key);
                let back = ptr
                    .string_to_normalized_value(&text)
                    .unwrap_or_else(|| panic!("{}: `{text}` does not parse", spec.key));
                ptr._internal_set_normalized_value(back);
            }
            let v = p.value(spec.id);
            let tol = 1e-3 * (spec.max - spec.min).abs().max(1.0);
            assert!(
                (v - spec.default).abs() <= tol,
                "{}: {v} vs {}",
                spec.key,
                spec.default
            );
        }
    }

    #[test]
    fn values_written_as_an_engineer_writes_them_land_in_the_engine() {
        let p = AutomixParams::default();
        let set = |key: &str, text: &str| {
            let (_, ptr, _) = p
                .param_map()
                .into_iter()
                .find(|(k, _, _)| k == key)
                .unwrap();
            // SAFETY: as above.
            unsafe {
                let n = ptr.string_to_normalized_value(text).unwrap();
                ptr._internal_set_normalized_value(n);
            }
        };
        set("eq_250hz_gain_db", "-3.5 dB");
        set("comp_ratio", "3.2:1");
        set("reverb_high_cutoff_hz", "4.0 kHz");
        set("reverb_time_s", "2.2 s");
        set("reverb_fdn_size", "64");
        set("eq_highpass_on", "On");
        let close = |id: ParamId, want: f32| {
            let v = p.value(id);
            assert!(
                (v - want).abs() <= 0.002 * want.abs().max(1.0),
                "{id:?}: {v} vs {want}"
            );
        };
        close(ParamId::EqGain250, -3.5);
        close(ParamId::CompRatio, 3.2);
        close(ParamId::ReverbHighCutoff, 4000.0);
        close(ParamId::ReverbTime, 2.2);
        assert_eq!(p.value(ParamId::ReverbFdnSize), 64.0);
        assert_eq!(p.value(ParamId::EqHighpassOn), 1.0);
    }
}
