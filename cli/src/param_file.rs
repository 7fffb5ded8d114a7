//! Parameter files: a JSON object of parameter keys and values, missing keys taking defaults.
//!
//! Values may be numbers, `true`/`false` for switches, or text as the plug-in shows it ("-3.5 dB",
//! "4k", "3.2:1"). Unknown keys are an error (a typo would otherwise be silently ignored); values
//! outside a parameter's range are clamped to it, with a warning.

use engine::params::{Conformed, Kind, PARAMS};
use engine::{MixParams, ParamId};
use serde_json::{Map, Value};

pub struct Loaded {
    pub params: MixParams,
    pub warnings: Vec<String>,
}

/// Keys that are not parameters but may stand in a parameter file.
const IGNORED_KEYS: [&str; 2] = ["$schema", "comment"];

pub fn parse(text: &str, origin: &str) -> Result<Loaded, String> {
    let value: Value =
        serde_json::from_str(text).map_err(|e| format!("{origin} is not valid JSON: {e}"))?;
    let Value::Object(map) = value else {
        return Err(format!(
            "{origin} must be a JSON object of parameter keys and values, like {{\"level_gain_db\": -3}}; `automix params` lists the keys"
        ));
    };
    // a suggestion (`analyze --json`, `mix --suggestion-out`): its parameters
    if map.get("format").and_then(Value::as_str) == Some(engine::analysis::suggestion::FORMAT) {
        let version = map.get("version").and_then(Value::as_u64).unwrap_or(0);
        if version > engine::analysis::suggestion::VERSION as u64 {
            return Err(format!(
                "{origin} is a suggestion of version {version}; this automix reads up to version {}",
                engine::analysis::suggestion::VERSION
            ));
        }
        let Some(Value::Object(params)) = map.get("params") else {
            return Err(format!("{origin}: a suggestion without its \"params\""));
        };
        return from_map(params, origin);
    }
    from_map(&map, origin)
}

fn from_map(map: &Map<String, Value>, origin: &str) -> Result<Loaded, String> {
    let unknown: Vec<String> = map
        .keys()
        .filter(|k| ParamId::from_key(k).is_none() && !IGNORED_KEYS.contains(&k.as_str()))
        .map(|k| match closest_key(k) {
            Some(near) => format!("`{k}` (did you mean `{near}`?)"),
            None => format!("`{k}`"),
        })
        .collect();
    if !unknown.is_empty() {
        return Err(format!(
            "{origin}: unknown parameter {}; `automix params` lists them all",
            unknown.join(", ")
        ));
    }
    let mut params = MixParams::default();
    let mut warnings = Vec::new();
    for spec in PARAMS {
        let Some(v) = map.get(spec.key) else { continue };
        let raw = match v {
            Value::Number(n) => n.as_f64().map(|f| f as f32),
            Value::Bool(b) if matches!(spec.kind, Kind::Toggle) => Some(if *b { 1.0 } else { 0.0 }),
            Value::String(s) => spec.parse(s),
            _ => None,
        };
        let raw = raw.ok_or_else(|| {
            let want = match spec.kind {
                Kind::Toggle => "true or false".to_string(),
                Kind::Choice(options) => format!("one of {options:?}"),
                Kind::Continuous => format!(
                    "a number from {} to {} {}",
                    spec.min,
                    spec.max,
                    spec.unit.symbol()
                ),
            };
            format!("{origin}: `{}` is {v}, expected {want}", spec.key)
        })?;
        if let Conformed::Clamped(c) = params.set(spec.id, raw) {
            let allowed = match spec.kind {
                Kind::Choice(options) => {
                    format!(
                        "is not one of {}",
                        options
                            .iter()
                            .map(|o| o.to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                }
                _ => format!(
                    "is outside {}…{} {}",
                    spec.min,
                    spec.max,
                    spec.unit.symbol()
                )
                .trim_end()
                .to_string(),
            };
            warnings.push(format!(
                "{origin}: `{}` = {raw} {allowed}; using {c}",
                spec.key
            ));
        }
    }
    Ok(Loaded { params, warnings })
}

/// The parameter key nearest to a mistyped one (edit distance at most a third of its length).
fn closest_key(typed: &str) -> Option<&'static str> {
    let d = |a: &str, b: &str| {
        let b: Vec<char> = b.chars().collect();
        let mut row: Vec<usize> = (0..=b.len()).collect();
        for (i, ca) in a.chars().enumerate() {
            let mut prev = row[0];
            row[0] = i + 1;
            for j in 0..b.len() {
                let cur = row[j + 1];
                row[j + 1] = (prev + usize::from(ca != b[j]))
                    .min(row[j] + 1)
                    .min(cur + 1);
                prev = cur;
            }
        }
        row[b.len()]
    };
    PARAMS
        .iter()
        .map(|p| (d(typed, p.key), p.key))
        .filter(|&(dist, _)| dist * 3 <= typed.len())
        .min()
        .map(|(_, k)| k)
}

/// The parameter table as a JSON Schema for parameter files.
pub fn json_schema() -> Value {
    let mut properties = Map::new();
    for p in PARAMS {
        let mut prop = Map::new();
        let description = match p.unit.symbol() {
            "" => format!("{} ({} stage)", p.name, p.stage),
            unit => format!("{} in {unit} ({} stage)", p.name, p.stage),
        };
        prop.insert("description".into(), description.into());
        match p.kind {
            Kind::Toggle => {
                prop.insert("type".into(), "boolean".into());
                prop.insert("default".into(), (p.default >= 0.5).into());
            }
            Kind::Choice(options) => {
                prop.insert(
                    "enum".into(),
                    options.iter().map(|&o| Value::from(o as f64)).collect(),
                );
                prop.insert("default".into(), (p.default as f64).into());
            }
            Kind::Continuous => {
                prop.insert("type".into(), "number".into());
                prop.insert("minimum".into(), (p.min as f64).into());
                prop.insert("maximum".into(), (p.max as f64).into());
                prop.insert("default".into(), (p.default as f64).into());
            }
        }
        properties.insert(p.key.into(), Value::Object(prop));
    }
    serde_json::json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Vocal Automix parameters",
        "type": "object",
        "properties": properties,
        "additionalProperties": false,
    })
}

/// The parameter table as a JSON array, one object per parameter.
pub fn table_json() -> Value {
    PARAMS
        .iter()
        .map(|p| {
            serde_json::json!({
                "key": p.key,
                "name": p.name,
                "stage": p.stage.name(),
                "unit": p.unit.symbol(),
                "min": p.min,
                "max": p.max,
                "default": p.default,
                "scale": format!("{:?}", p.scale).to_lowercase(),
                "kind": match p.kind { Kind::Toggle => "toggle".into(), Kind::Choice(_) => "choice".into(), Kind::Continuous => Value::from("continuous") },
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_keys_take_defaults_and_values_are_read_in_any_form() {
        let l = parse(
            r#"{"level_gain_db": -3.5, "eq_bypass": true, "reverb_high_cutoff_hz": "4.5 kHz"}"#,
            "p",
        )
        .unwrap();
        assert_eq!(l.params.get(ParamId::LevelGain), -3.5);
        assert!(l.params.on(ParamId::EqBypass));
        assert_eq!(l.params.get(ParamId::ReverbHighCutoff), 4500.0);
        assert_eq!(
            l.params.get(ParamId::CompRatio),
            MixParams::default().get(ParamId::CompRatio)
        );
        assert!(l.warnings.is_empty());
    }

    #[test]
    fn out_of_range_values_are_clamped_with_a_warning() {
        let l = parse(r#"{"level_gain_db": 99, "reverb_fdn_size": 40}"#, "p").unwrap();
        assert_eq!(l.params.get(ParamId::LevelGain), 20.0);
        assert_eq!(l.params.get(ParamId::ReverbFdnSize), 32.0);
        assert_eq!(l.warnings.len(), 2);
        assert!(
            l.warnings
                .iter()
                .any(|w| w.contains("`level_gain_db` = 99 is outside -40…20 dB; using 20")),
            "{:?}",
            l.warnings
        );
        assert!(
            l.warnings
                .iter()
                .any(|w| w.contains("`reverb_fdn_size` = 40 is not one of 16, 32, 64; using 32")),
            "{:?}",
            l.warnings
        );
    }

    #[test]
    fn bad_files_say_what_is_wrong() {
        let e = parse(r#"{"level_gian_db": 1}"#, "p.json").err().unwrap();
        assert!(
            e.contains("unknown parameter `level_gian_db` (did you mean `level_gain_db`?)"),
            "{e}"
        );
        assert!(
            parse("[1, 2]", "p.json")
                .err()
                .unwrap()
                .contains("must be a JSON object")
        );
        assert!(
            parse("{\"level_gain_db\": ", "p.json")
                .err()
                .unwrap()
                .contains("not valid JSON")
        );
        assert!(
            parse(r#"{"level_gain_db": null}"#, "p.json")
                .err()
                .unwrap()
                .contains("expected a number from -40 to 20 dB")
        );
        assert!(parse(r#"{"level_gain_db": "loud"}"#, "p.json").is_err());
        assert!(parse(r#"{"$schema": "x", "comment": "mine"}"#, "p.json").is_ok());
    }

    #[test]
    fn schema_lists_every_parameter() {
        let s = json_schema();
        assert_eq!(s["properties"].as_object().unwrap().len(), PARAMS.len());
        assert_eq!(s["properties"]["comp_ratio"]["maximum"], 20.0);
    }
}
