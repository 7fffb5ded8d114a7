//! `automix eval`: how close each engine's mixes come to professional ones, on songs with their
//! vocal stem and accompaniment (`engine::evaluation` does the work; this finds and reads the
//! songs and prints the tables).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use engine::analysis::Engine;
use engine::analysis::cnn::CnnModels;
use engine::evaluation::degrade::InputKind;
use engine::evaluation::metrics::{Errors, Stereo};
use engine::evaluation::{self, Method, Profile, Song, SongResult};

use crate::audio_io::{self, Audio};
use crate::same_file::{self, Named};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Folders of songs: a folder holding `vocals.*` and `accompaniment.*` (the musdb-excerpts
    /// layout) or `vocals.*` with `drums.*`, `bass.*`, `other.*` (MUSDB18-HQ), or folders of such
    /// folders
    #[arg(required = true)]
    pub dirs: Vec<PathBuf>,
    /// Seed of the random gains and EQs
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Targets for each song: fitted on the other songs (`leave-one-out`, the fair score), the
    /// built-in ones (fitted on the shared songs: in-sample for them), or the research's alone
    /// (the level rule, no tone target: the masking rule only)
    #[arg(long, value_enum, default_value_t = TargetChoice::LeaveOneOut)]
    pub targets: TargetChoice,
    /// Fail (exit 1) when the CNN or Auto engine is worse than the rules by more than this, on
    /// any song, input and metric
    #[arg(long, value_name = "DB_OR_LU")]
    pub max_loss_vs_rules: Option<f64>,
    /// Write every figure as JSON
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Print the tone target fitted on all the songs (the built-in one's source) and stop
    #[arg(long)]
    pub fit_targets: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum TargetChoice {
    LeaveOneOut,
    BuiltIn,
    Research,
}

impl Args {
    pub fn run(self, say: &mut dyn FnMut(String)) -> Result<(), String> {
        let folders = find_songs(&self.dirs)?;
        if let Some(json) = &self.json {
            let stems: Vec<PathBuf> = folders
                .iter()
                .flat_map(|f| {
                    [
                        "vocals",
                        "accompaniment",
                        "drums",
                        "bass",
                        "other",
                        "mixture",
                    ]
                    .iter()
                    .filter_map(|s| stem_file(f, s))
                    .collect::<Vec<_>>()
                })
                .collect();
            let inputs: Vec<Named> = stems
                .iter()
                .map(|p| Named::new("a song's stem", p))
                .collect();
            same_file::check(&inputs, &[Named::new("the figures (--json)", json)])?;
        }
        let mut songs = Vec::new();
        for f in &folders {
            songs.push(load_song(f)?);
        }
        say(format!(
            "{} songs: {}",
            songs.len(),
            songs
                .iter()
                .map(|s| s.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
        let profiles = songs
            .iter()
            .map(evaluation::profile)
            .collect::<Result<Vec<_>, _>>()?;
        if self.fit_targets {
            print!("{}", fitted_targets(&profiles));
            return Ok(());
        }
        let models = CnnModels::shared();
        let results = evaluate_all(&songs, &profiles, self.targets, self.seed, models)?;
        print!("{}", report(&results, self.seed, self.targets));
        if let Some(path) = &self.json {
            audio_io::write_text(path, &to_json(&results).to_string())?;
            say(format!("figures → {}", path.display()));
        }
        if let Some(limit) = self.max_loss_vs_rules {
            let losses = losses_vs_rules(&results, limit);
            if !losses.is_empty() {
                return Err(format!(
                    "the CNN or Auto engine is worse than the rules by more than {limit}:\n  {}",
                    losses.join("\n  ")
                ));
            }
            say(format!(
                "no engine is worse than the rules by more than {limit} on any song, input or metric"
            ));
        }
        Ok(())
    }
}

/// Song folders under `dirs`, sorted, at most three levels down.
pub fn find_songs(dirs: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    fn walk(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) -> Result<(), String> {
        if stem_file(dir, "vocals").is_some() {
            out.push(dir.to_path_buf());
            return Ok(());
        }
        if depth == 0 {
            return Ok(());
        }
        let mut subs: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(|e| format!("{}: {e}", dir.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_dir())
            .collect();
        subs.sort();
        for s in subs {
            walk(&s, depth - 1, out)?;
        }
        Ok(())
    }
    let mut out = Vec::new();
    for d in dirs {
        if !d.is_dir() {
            return Err(format!("{}: not a folder", d.display()));
        }
        walk(d, 3, &mut out)?;
    }
    if out.is_empty() {
        return Err(
            "no songs found: a song is a folder with vocals.* and accompaniment.* (or drums, bass, other)"
                .into(),
        );
    }
    Ok(out)
}

/// The audio file in `dir` named `stem` with any extension the decoder takes.
pub fn stem_file(dir: &Path, stem: &str) -> Option<PathBuf> {
    audio_io::AUDIO_EXTENSIONS
        .iter()
        .map(|ext| dir.join(format!("{stem}.{ext}")))
        .find(|p| p.is_file())
}

fn stereo(a: Audio, path: &Path) -> Result<Stereo, String> {
    let mut ch = a.channels.into_iter();
    match (ch.next(), ch.next(), ch.next()) {
        (Some(l), None, _) => Ok(Stereo {
            right: l.clone(),
            left: l,
        }),
        (Some(l), Some(r), None) => Ok(Stereo { left: l, right: r }),
        _ => Err(format!("{}: a stem must be mono or stereo", path.display())),
    }
}

fn read_stem(path: &Path) -> Result<(u32, Stereo), String> {
    let (a, _) = audio_io::read(path)?;
    if a.frames() == 0 {
        return Err(format!("{}: no audio", path.display()));
    }
    Ok((a.sample_rate, stereo(a, path)?))
}

/// A song folder: the vocal stem and the accompaniment (or the sum of the other stems), cut to
/// the shorter of them.
pub fn load_song(dir: &Path) -> Result<Song, String> {
    let name = dir
        .file_name()
        .map_or_else(|| dir.display().to_string(), |n| n.to_string_lossy().into());
    let vocal_path = stem_file(dir, "vocals").ok_or(format!("{}: no vocals.*", dir.display()))?;
    let (rate, mut vocal) = read_stem(&vocal_path)?;
    let parts: Vec<PathBuf> = match stem_file(dir, "accompaniment") {
        Some(p) => vec![p],
        None => ["drums", "bass", "other"]
            .iter()
            .filter_map(|s| stem_file(dir, s))
            .collect(),
    };
    if parts.is_empty() {
        return Err(format!(
            "{}: no accompaniment.* (nor drums, bass, other)",
            dir.display()
        ));
    }
    let mut acc: Option<Stereo> = None;
    for p in &parts {
        let (r, s) = read_stem(p)?;
        if r != rate {
            return Err(format!(
                "{}: {r} Hz, the vocal is at {rate} Hz",
                p.display()
            ));
        }
        acc = Some(match acc {
            None => s,
            Some(mut a) => {
                let n = a.len().min(s.len());
                a.left.truncate(n);
                a.right.truncate(n);
                for i in 0..n {
                    a.left[i] += s.left[i];
                    a.right[i] += s.right[i];
                }
                a
            }
        });
    }
    let mut acc = acc.expect("at least one part");
    let n = vocal.len().min(acc.len());
    for s in [&mut vocal, &mut acc] {
        s.left.truncate(n);
        s.right.truncate(n);
    }
    Ok(Song {
        name,
        sample_rate: rate,
        vocal,
        accompaniment: acc,
    })
}

/// Every song evaluated (in parallel), each with targets fitted on the others when asked.
fn evaluate_all(
    songs: &[Song],
    profiles: &[Profile],
    choice: TargetChoice,
    seed: u64,
    models: &CnnModels,
) -> Result<Vec<SongResult>, String> {
    let results = crate::jobs::map(songs, crate::jobs::available(), |i, song| {
        let targets = match choice {
            TargetChoice::BuiltIn => engine::analysis::targets::Targets::built_in(),
            TargetChoice::Research => engine::analysis::targets::Targets {
                tone: None,
                ..engine::analysis::targets::Targets::built_in()
            },
            TargetChoice::LeaveOneOut => {
                let others: Vec<&Profile> = profiles
                    .iter()
                    .enumerate()
                    .filter(|(j, _)| *j != i)
                    .map(|(_, p)| p)
                    .collect();
                evaluation::fit_targets(&others)
            }
        };
        evaluation::evaluate(
            song,
            &evaluation::Options {
                seed,
                methods: &Method::ALL,
                models: Some(models),
                targets: &targets,
            },
        )
    });
    results.into_iter().collect()
}

fn row_text(out: &mut String, method: Method, e: &Errors) {
    let _ = writeln!(
        out,
        "    {:<10} {:>8.2} {:>8.2} {:>8.2}",
        method.name(),
        e.level_lu,
        e.tone_db,
        e.lra_lu
    );
}

fn header(out: &mut String) {
    let _ = writeln!(
        out,
        "    {:<10} {:>8} {:>8} {:>8}",
        "", "level LU", "tone dB", "LRA LU"
    );
}

/// The tables: per song, per input kind, each method's three errors; then the means.
pub fn report(results: &[SongResult], seed: u64, choice: TargetChoice) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "errors against the professional vocal (seed {seed}; targets {}):",
        match choice {
            TargetChoice::LeaveOneOut => "fitted leaving each song out",
            TargetChoice::BuiltIn => "built in",
            TargetChoice::Research => "the research's (no tone target)",
        }
    );
    for r in results {
        let _ = writeln!(
            out,
            "\n{} ({:.1} s; professional vocal {:+.2} LU against the accompaniment)",
            r.name, r.seconds, r.balance_lu
        );
        for (kind, d) in &r.inputs {
            let _ = writeln!(out, "  input {}: {d}", kind.name());
            header(&mut out);
            for m in Method::ALL {
                if let Some(row) = r.get(*kind, m) {
                    row_text(&mut out, m, &row.errors);
                }
            }
        }
    }
    let _ = writeln!(out, "\nmean over {} songs", results.len());
    for kind in InputKind::ALL {
        let _ = writeln!(out, "  input {}:", kind.name());
        header(&mut out);
        for m in Method::ALL {
            let all: Vec<Errors> = results
                .iter()
                .filter_map(|r| r.get(kind, m).map(|row| row.errors))
                .collect();
            row_text(&mut out, m, &Errors::mean(&all));
        }
    }
    out.push_str(&level_study(results));
    out
}

/// The level decision judged leaving one song out: the research's constant against the mean
/// balance of the other songs, per song.
fn level_study(results: &[SongResult]) -> String {
    let mut out = String::new();
    let rule = engine::analysis::level_balance::TARGET_BELOW_BACKING_LU;
    let _ = writeln!(
        out,
        "\nlevel targets, leave one song out (professional balance; error of each constant):"
    );
    let _ = writeln!(
        out,
        "    {:<34} {:>9} {:>9} {:>14}",
        "song", "balance", "-1.77 LU", "mean of others"
    );
    let (mut e_rule, mut e_loo) = (0.0, 0.0);
    for (i, r) in results.iter().enumerate() {
        let others: Vec<f64> = results
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(_, o)| o.balance_lu)
            .collect();
        let loo = if others.is_empty() {
            -rule
        } else {
            others.iter().sum::<f64>() / others.len() as f64
        };
        let (a, b) = ((r.balance_lu + rule).abs(), (r.balance_lu - loo).abs());
        e_rule += a;
        e_loo += b;
        let _ = writeln!(
            out,
            "    {:<34} {:>+9.2} {:>9.2} {:>14.2}",
            r.name, r.balance_lu, a, b
        );
    }
    let n = results.len().max(1) as f64;
    let _ = writeln!(
        out,
        "    {:<34} {:>9} {:>9.2} {:>14.2}",
        "mean",
        "",
        e_rule / n,
        e_loo / n
    );
    out
}

/// Where the CNN or Auto engine is worse than the rules by more than `limit`.
pub fn losses_vs_rules(results: &[SongResult], limit: f64) -> Vec<String> {
    let mut out = Vec::new();
    for r in results {
        for kind in InputKind::ALL {
            let Some(rules) = r.get(kind, Method::Engine(Engine::Rules)) else {
                continue;
            };
            for e in [Engine::Cnn, Engine::Auto] {
                let Some(row) = r.get(kind, Method::Engine(e)) else {
                    continue;
                };
                for ((name, a), b) in Errors::NAMES
                    .iter()
                    .zip(row.errors.values())
                    .zip(rules.errors.values())
                {
                    if a - b > limit {
                        out.push(format!(
                            "{} ({}): {} {name} error {a:.2} against the rules' {b:.2}",
                            r.name,
                            kind.name(),
                            e.name()
                        ));
                    }
                }
            }
        }
    }
    out
}

fn fitted_targets(profiles: &[Profile]) -> String {
    let all: Vec<&Profile> = profiles.iter().collect();
    let t = evaluation::fit_targets(&all);
    let mut out = String::new();
    for p in profiles {
        let _ = writeln!(
            out,
            "{:<34} {:?}",
            p.name,
            p.tone.map(|x| (x * 100.0).round() / 100.0)
        );
    }
    if let Some(tone) = t.tone {
        let _ = writeln!(
            out,
            "pub const TONE_RELATIVE_DB: [f64; 9] = {:?};",
            tone.relative_db
        );
        let _ = writeln!(
            out,
            "pub const TONE_SPREAD_DB: [f64; 9] = {:?};",
            tone.spread_db
        );
    }
    out
}

fn to_json(results: &[SongResult]) -> serde_json::Value {
    serde_json::Value::Array(
        results
            .iter()
            .map(|r| {
                serde_json::json!({
                    "song": r.name,
                    "seconds": r.seconds,
                    "professional_balance_lu": r.balance_lu,
                    "inputs": r.inputs.iter().map(|(k, d)| serde_json::json!({
                        "kind": k.name(), "change": d.to_string(),
                    })).collect::<Vec<_>>(),
                    "rows": r.rows.iter().map(|row| serde_json::json!({
                        "input": row.kind.name(),
                        "method": row.method.name(),
                        "level_error_lu": row.errors.level_lu,
                        "tone_error_db": row.errors.tone_db,
                        "lra_error_lu": row.errors.lra_lu,
                        "gain_db": row.gain_db,
                    })).collect::<Vec<_>>(),
                })
            })
            .collect(),
    )
}
