//! `automix`: Vocal Automix on the command line.

mod audio_io;
mod demo;
mod param_file;
mod render;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use engine::PARAMS;
use engine::params::Kind;

#[derive(Parser)]
#[command(
    name = "automix",
    version,
    about = "Vocal Automix: mix a lead vocal against its backing track"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Render a vocal through EQ → compressor → reverb → level with the parameters given
    Render {
        /// The vocal (WAV, FLAC, MP3 or Ogg; mono or stereo)
        #[arg(long)]
        vocal: PathBuf,
        /// Parameter file: a JSON object of keys from `automix params`; missing keys take defaults
        #[arg(long)]
        params: PathBuf,
        /// Where to write the processed vocal (stereo, 32-bit float WAV)
        #[arg(short, long)]
        out: PathBuf,
        /// The backing track, to write the full mix as well
        #[arg(long, requires = "mix_out")]
        backing: Option<PathBuf>,
        /// Where to write the full mix (processed vocal + backing)
        #[arg(long, requires = "backing")]
        mix_out: Option<PathBuf>,
        /// Seconds of reverb tail to render after the vocal ends
        #[arg(long, default_value_t = 0.0, value_parser = tail_seconds)]
        tail: f32,
    },
    /// Hear the product with no input: synthesise a sung line and a backing, render the vocal
    /// through the chain and write the files
    Demo {
        /// Folder to write into (created if needed)
        #[arg(long, default_value = "automix-demo")]
        out_dir: PathBuf,
    },
    /// Print the parameter table: keys, units, ranges, defaults
    Params {
        /// As a JSON array
        #[arg(long, conflicts_with = "schema")]
        json: bool,
        /// As a JSON Schema for parameter files
        #[arg(long)]
        schema: bool,
    },
}

fn tail_seconds(s: &str) -> Result<f32, String> {
    let v: f32 = s
        .parse()
        .map_err(|_| format!("`{s}` is not a number of seconds"))?;
    if (0.0..=60.0).contains(&v) {
        Ok(v)
    } else {
        Err("the tail is 0 to 60 seconds".into())
    }
}

fn print_table() {
    println!(
        "{:<28} {:<22} {:>10} {:>10} {:>10}  unit",
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
        println!(
            "{:<28} {:<22} {:>10} {:>10} {:>10}  {}",
            p.key,
            p.name,
            min,
            max,
            default,
            p.unit.symbol()
        );
    }
}

fn run(cli: Cli) -> Result<(), String> {
    match cli.command {
        Command::Render {
            vocal,
            params,
            out,
            backing,
            mix_out,
            tail,
        } => {
            let job = render::RenderJob {
                vocal,
                params,
                out,
                backing,
                mix_out,
                tail_seconds: tail,
            };
            render::run(
                &job,
                &mut |w| eprintln!("automix: warning: {w}"),
                &mut |s| eprintln!("{s}"),
            )
        }
        Command::Demo { out_dir } => demo::run(
            &out_dir,
            &mut |w| eprintln!("automix: warning: {w}"),
            &mut |s| eprintln!("{s}"),
        ),
        Command::Params { json, schema } => {
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&param_file::table_json()).expect("serialisable")
                );
            } else if schema {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&param_file::json_schema()).expect("serialisable")
                );
            } else {
                print_table();
            }
            Ok(())
        }
    }
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("automix: error: {e}");
            ExitCode::FAILURE
        }
    }
}
