//! `automix params`: the parameter table, as text, JSON or a JSON Schema for parameter files.

use engine::PARAMS;
use engine::params::Kind;

use crate::param_file;

/// `automix params`: print the parameter table: keys, units, ranges, defaults.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// As a JSON array
    #[arg(long, conflicts_with = "schema")]
    pub json: bool,
    /// As a JSON Schema for parameter files
    #[arg(long)]
    pub schema: bool,
}

impl Args {
    pub fn run(self) -> Result<(), String> {
        let json = |v: serde_json::Value| {
            serde_json::to_string_pretty(&v).map_err(|e| format!("cannot write JSON: {e}"))
        };
        if self.json {
            println!("{}", json(param_file::table_json())?);
        } else if self.schema {
            println!("{}", json(param_file::json_schema())?);
        } else {
            print!("{}", table());
        }
        Ok(())
    }
}

/// The table as a person reads it.
fn table() -> String {
    let mut out = format!(
        "{:<28} {:<22} {:>10} {:>10} {:>10}  unit\n",
        "key", "name", "min", "max", "default"
    );
    for p in PARAMS {
        let (min, max) = match p.kind {
            Kind::Toggle => ("off".to_string(), "on".to_string()),
            Kind::Choice(o) => (format!("{}", o[0]), format!("{}", o[o.len() - 1])),
            Kind::Continuous => (format!("{}", p.min), format!("{}", p.max)),
        };
        let default = match p.kind {
            Kind::Toggle => {
                if p.default >= 0.5 {
                    "on".to_string()
                } else {
                    "off".to_string()
                }
            }
            _ => format!("{}", (p.default * 1000.0).round() / 1000.0),
        };
        out.push_str(&format!(
            "{:<28} {:<22} {:>10} {:>10} {:>10}  {}\n",
            p.key,
            p.name,
            min,
            max,
            default,
            p.unit.symbol()
        ));
    }
    out
}
