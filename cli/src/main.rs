//! `automix`: Vocal Automix on the command line.

use automix::analyze::{self, AnalyzeJob};
use automix::batch::{self, BatchJob};
use automix::dataset::{self, DatasetJob, Task};
use automix::mix::{self, MixJob};
use automix::models::{self, ModelsJob};
use automix::{demo, param_file, render};

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use engine::PARAMS;
use engine::analysis::Engine;
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
    /// Analyze a vocal against its backing track and print the suggested mix (every parameter,
    /// and why)
    Analyze {
        /// The vocal (WAV, FLAC, MP3 or Ogg; mono or stereo; any rate)
        #[arg(long)]
        vocal: PathBuf,
        /// The backing track; without it the EQ and level stay as they are
        #[arg(long)]
        backing: Option<PathBuf>,
        /// The song's tempo, if known (otherwise estimated from the backing)
        #[arg(long, value_parser = tempo_bpm)]
        tempo: Option<f64>,
        /// Print the suggestion as JSON
        #[arg(long)]
        json: bool,
        /// Who decides each stage: rules (the research's rule-based assistant), cnn (its CNNs,
        /// the rules where a model cannot answer), auto (per stage, the CNN only where it beat
        /// the dataset mean on held-out songs in models.json)
        #[arg(long, default_value = "rules", value_parser = ["rules", "cnn", "auto"])]
        engine: String,
    },
    /// Analyze, then render the processed vocal and the full mix with the suggestion
    Mix {
        #[arg(long)]
        vocal: PathBuf,
        #[arg(long)]
        backing: PathBuf,
        /// Where to write the full mix (stereo, 32-bit float WAV)
        #[arg(short, long)]
        out: PathBuf,
        /// Also write the processed vocal alone
        #[arg(long)]
        vocal_out: Option<PathBuf>,
        /// Also write the suggestion as JSON
        #[arg(long)]
        suggestion_out: Option<PathBuf>,
        #[arg(long, value_parser = tempo_bpm)]
        tempo: Option<f64>,
        /// Who decides each stage: rules (the research's rule-based assistant), cnn (its CNNs,
        /// the rules where a model cannot answer), auto (per stage, the CNN only where it beat
        /// the dataset mean on held-out songs in models.json)
        #[arg(long, default_value = "rules", value_parser = ["rules", "cnn", "auto"])]
        engine: String,
    },
    /// Mix every vocal/backing pair in a folder (song_vocal.wav + song_backing.wav), in parallel,
    /// and write one summary
    Batch {
        /// The folder with the pairs
        dir: PathBuf,
        /// Where the mixes, suggestions and summary.tsv go (default: DIR/automix)
        #[arg(long)]
        out_dir: Option<PathBuf>,
        /// Songs mixed at once (default: one per core)
        #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
        jobs: Option<u16>,
        /// One tempo for every song (otherwise each is estimated)
        #[arg(long, value_parser = tempo_bpm)]
        tempo: Option<f64>,
        /// Who decides each stage: rules (the research's rule-based assistant), cnn (its CNNs,
        /// the rules where a model cannot answer), auto (per stage, the CNN only where it beat
        /// the dataset mean on held-out songs in models.json)
        #[arg(long, default_value = "rules", value_parser = ["rules", "cnn", "auto"])]
        engine: String,
    },
    /// Training data for the CNN assistant from a folder of stems (MUSDB18-HQ song folders, or
    /// MIR-1K clips with the backing left and the vocal right): feature blocks and targets
    Dataset {
        /// The folder with the sources
        input: PathBuf,
        /// Where OUT/<task>/ goes (features.f32, targets.f32, blocks.tsv, meta.json)
        #[arg(long)]
        out: PathBuf,
        /// What to make targets for: eq and reverb (self-supervised: random EQs or reverbs on
        /// the vocal), level and compression (measured on stems that carry a mixing decision)
        #[arg(long, default_value = "eq", value_parser = ["eq", "level", "compression", "reverb"])]
        task: String,
        /// Level and compression: also sources whose balance is not a mixing decision (MIR-1K)
        #[arg(long)]
        include_unmixed: bool,
        /// Random EQs or reverbs per source
        #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=1000))]
        draws: u32,
        /// Seed for the draws and the splits
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Share of the singers (MIR-1K) or songs (MUSDB) held out for validation
        #[arg(long, default_value_t = 0.15, value_parser = share)]
        validation: f64,
        /// Share held out for the final test
        #[arg(long, default_value_t = 0.15, value_parser = share)]
        test: f64,
    },
    /// The CNN models the assistant would use (built in, or a folder of retrained ones), their
    /// held-out figures and the backend that runs them
    Models {
        /// A folder with models.json and its .onnx files (default: $VOCAL_AUTOMIX_MODELS, the
        /// user folder, or the built-in models)
        #[arg(long)]
        folder: Option<PathBuf>,
        /// Run one model (eq, compression, reverb, level) on feature blocks saved as
        /// `automix dataset` saves them, and write its raw outputs (float32) to --out
        #[arg(long, requires_all = ["features", "out"])]
        predict: Option<String>,
        #[arg(long)]
        features: Option<PathBuf>,
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Render a vocal through EQ → compressor → reverb → level with the parameters given
    Render {
        /// The vocal (WAV, FLAC, MP3 or Ogg; mono or stereo)
        #[arg(long)]
        vocal: PathBuf,
        /// Parameter file: a JSON object of keys from `automix params` (missing keys take
        /// defaults), or a suggestion written by `analyze --json` / `mix --suggestion-out`
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
    /// Hear the product with no input: synthesise a sung line and a backing, let the assistant
    /// mix them, and write the files and a report
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

fn share(s: &str) -> Result<f64, String> {
    let v: f64 = s.parse().map_err(|_| format!("`{s}` is not a number"))?;
    if (0.0..1.0).contains(&v) {
        Ok(v)
    } else {
        Err("a share is from 0 to under 1".into())
    }
}

fn tempo_bpm(s: &str) -> Result<f64, String> {
    let v: f64 = s
        .parse()
        .map_err(|_| format!("`{s}` is not a tempo in BPM"))?;
    if (20.0..=400.0).contains(&v) {
        Ok(v)
    } else {
        Err("the tempo is 20 to 400 BPM".into())
    }
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
    let mut warn = |w: String| eprintln!("automix: warning: {w}");
    let mut say = |s: String| eprintln!("{s}");
    match cli.command {
        Command::Analyze {
            vocal,
            backing,
            tempo,
            json,
            engine,
        } => analyze::run(
            &AnalyzeJob {
                vocal,
                backing,
                tempo_bpm: tempo,
                engine: engine_named(&engine),
            },
            json,
            &mut warn,
        ),
        Command::Mix {
            vocal,
            backing,
            out,
            vocal_out,
            suggestion_out,
            tempo,
            engine,
        } => {
            let job = MixJob {
                analyze: AnalyzeJob {
                    vocal,
                    backing: Some(backing),
                    tempo_bpm: tempo,
                    engine: engine_named(&engine),
                },
                mix_out: out,
                vocal_out,
                suggestion_out,
            };
            let s = mix::run(&job, &mut warn, &mut say)?;
            print!(
                "{}",
                analyze::table(&s, &job.analyze.vocal, job.analyze.backing.as_deref())
            );
            Ok(())
        }
        Command::Batch {
            dir,
            out_dir,
            jobs,
            tempo,
            engine,
        } => batch::run(
            &BatchJob {
                dir,
                out_dir,
                jobs: jobs.map(usize::from),
                tempo_bpm: tempo,
                engine: engine_named(&engine),
            },
            &mut warn,
            &mut say,
        ),
        Command::Render {
            vocal,
            params,
            out,
            backing,
            mix_out,
            tail,
        } => {
            let params = render::load_params(&params, &mut warn)?;
            let job = render::RenderJob {
                vocal,
                params,
                out: Some(out),
                backing,
                mix_out,
                tail_seconds: tail,
            };
            render::run(&job, &mut warn, &mut say)
        }
        Command::Models {
            folder,
            predict,
            features,
            out,
        } => models::run(
            &ModelsJob {
                folder,
                predict: predict.map(|t| {
                    (
                        t,
                        features.expect("clap requires it"),
                        out.expect("clap requires it"),
                    )
                }),
            },
            &mut say,
        ),
        Command::Dataset {
            input,
            out,
            task,
            include_unmixed,
            draws,
            seed,
            validation,
            test,
        } => {
            if validation + test >= 1.0 {
                return Err("--validation and --test leave nothing to train on".into());
            }
            let job = DatasetJob {
                input,
                out,
                task: Task::from_name(&task).expect("clap checked the name"),
                include_unmixed,
                draws: draws as usize,
                seed,
                validation,
                test,
            };
            let s = dataset::run(&job, &mut say)?;
            println!(
                "{} sources; examples: {} train, {} validation, {} test; written to {}",
                s.sources,
                s.examples[0],
                s.examples[1],
                s.examples[2],
                job.out.join(job.task.name()).display()
            );
            Ok(())
        }
        Command::Demo { out_dir } => demo::run(&out_dir, &mut warn, &mut say),
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

fn engine_named(name: &str) -> Engine {
    Engine::from_name(name).expect("clap checked the name")
}
