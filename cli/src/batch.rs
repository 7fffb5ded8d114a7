//! `automix batch DIR`: every vocal/backing pair in a folder, mixed in parallel, with one summary.
//!
//! Pairs are found by name: a file whose name contains "vocal" and one whose name contains
//! "backing" pair up when the rest of their names agree (`song1_vocal.wav` + `song1_backing.ogg`,
//! `Vocals - Take 2.flac` + `Backing - Take 2.mp3`).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use engine::ParamId;
use engine::analysis::suggestion::TempoSource;
use engine::analysis::{Engine, MixSuggestion};
use indicatif::MultiProgress;

use crate::analyze::AnalyzeJob;
use crate::audio_io;
use crate::cli_args::AssistantArgs;
use crate::mix::{self, MixJob};
use crate::progress::Progress;
use crate::reference::{Prepared, ReferenceArgs};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pair {
    pub name: String,
    pub vocal: PathBuf,
    pub backing: PathBuf,
}

/// Removes `word` (and a plural "s") from a lower-cased stem, and the separators around it.
fn key_without(stem: &str, word: &str) -> String {
    let at = stem.find(word).expect("checked by the caller");
    let mut end = at + word.len();
    if stem[end..].starts_with('s') {
        end += 1;
    }
    let joined = format!("{}{}", &stem[..at], &stem[end..]);
    let sep = |c: char| c == '_' || c == '-' || c == ' ' || c == '.';
    let parts: Vec<&str> = joined.split(sep).filter(|p| !p.is_empty()).collect();
    parts.join("_")
}

/// The pairs in `dir`, and the files that look like a vocal or a backing but have no partner.
pub fn find_pairs(dir: &Path) -> Result<(Vec<Pair>, Vec<PathBuf>), String> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| format!("cannot read the folder {}: {e}", dir.display()))?;
    let mut vocals: BTreeMap<String, PathBuf> = BTreeMap::new();
    let mut backings: BTreeMap<String, PathBuf> = BTreeMap::new();
    let mut unpaired = Vec::new();
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for path in paths {
        if !path.is_file() || !audio_io::is_audio_file_name(&path) {
            continue;
        }
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_lowercase();
        match (stem.contains("vocal"), stem.contains("backing")) {
            (true, false) => {
                if let Some(old) = vocals.insert(key_without(&stem, "vocal"), path.clone()) {
                    unpaired.push(old);
                }
            }
            (false, true) => {
                if let Some(old) = backings.insert(key_without(&stem, "backing"), path.clone()) {
                    unpaired.push(old);
                }
            }
            (true, true) => unpaired.push(path),
            _ => {}
        }
    }
    let mut pairs = Vec::new();
    for (key, vocal) in vocals {
        match backings.remove(&key) {
            Some(backing) => pairs.push(Pair {
                name: if key.is_empty() { "song".into() } else { key },
                vocal,
                backing,
            }),
            None => unpaired.push(vocal),
        }
    }
    unpaired.extend(backings.into_values());
    unpaired.sort();
    Ok((pairs, unpaired))
}

struct Outcome {
    pair: Pair,
    result: Result<MixSuggestion, String>,
    warnings: Vec<String>,
}

/// `automix batch`: mix every vocal/backing pair in a folder, in parallel, and write one summary.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The folder with the pairs (song_vocal.wav + song_backing.wav)
    pub dir: PathBuf,
    /// Where the mixes, suggestions and summary.tsv go (default: DIR/automix)
    #[arg(long)]
    pub out_dir: Option<PathBuf>,
    /// Songs mixed at once (default: one per core)
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
    pub jobs: Option<u16>,
    #[command(flatten)]
    pub assistant: AssistantArgs,
    #[command(flatten)]
    pub reference: ReferenceArgs,
}

impl Args {
    pub fn run(
        self,
        warn: &mut dyn FnMut(String),
        say: &mut dyn FnMut(String),
    ) -> Result<(), String> {
        let job = BatchJob {
            dir: self.dir,
            out_dir: self.out_dir,
            jobs: self.jobs.map(usize::from),
            tempo_bpm: self.assistant.tempo,
            engine: self.assistant.engine.0,
            gate: self.assistant.gate.kind(),
            reference: self.reference.prepare(warn)?,
        };
        run(&job, warn, say)
    }
}

pub struct BatchJob {
    pub dir: PathBuf,
    pub out_dir: Option<PathBuf>,
    pub jobs: Option<usize>,
    pub tempo_bpm: Option<f64>,
    pub engine: Engine,
    pub gate: engine::analysis::suggestion::GateKind,
    /// Measured once, for every song.
    pub reference: Prepared,
}

pub fn run(
    job: &BatchJob,
    warn: &mut dyn FnMut(String),
    say: &mut dyn FnMut(String),
) -> Result<(), String> {
    let (pairs, unpaired) = find_pairs(&job.dir)?;
    for u in &unpaired {
        warn(format!(
            "{}: no partner found (vocal and backing pair up by the rest of their names)",
            u.display()
        ));
    }
    if pairs.is_empty() {
        return Err(format!(
            "no vocal/backing pairs in {}: name them like song_vocal.wav and song_backing.wav",
            job.dir.display()
        ));
    }
    let out_dir = job
        .out_dir
        .clone()
        .unwrap_or_else(|| job.dir.join("automix"));
    std::fs::create_dir_all(&out_dir)
        .map_err(|e| format!("cannot create {}: {e}", out_dir.display()))?;
    let threads = job
        .jobs
        .unwrap_or_else(crate::jobs::available)
        .clamp(1, pairs.len());
    say(format!(
        "{} pairs in {}, {threads} at a time → {}",
        pairs.len(),
        job.dir.display(),
        out_dir.display()
    ));

    let multi = MultiProgress::new();
    let overall = Progress::in_multi(&multi, "songs", pairs.len() as u64);
    let outcomes = crate::jobs::map(&pairs, threads, |_, pair| {
        overall.set_message(pair.name.clone());
        let mut warnings = Vec::new();
        let mix_job = MixJob {
            analyze: AnalyzeJob {
                vocal: pair.vocal.clone(),
                backing: Some(pair.backing.clone()),
                tempo_bpm: job.tempo_bpm,
                engine: job.engine,
                gate: job.gate,
                reference: job.reference.clone(),
            },
            mix_out: out_dir.join(format!("{}.mix.wav", pair.name)),
            vocal_out: Some(out_dir.join(format!("{}.vocal.wav", pair.name))),
            suggestion_out: Some(out_dir.join(format!("{}.suggestion.json", pair.name))),
        };
        // a panic in one song must not take the others down
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            mix::run(&mix_job, &mut |w| warnings.push(w), &mut |_| {})
        }))
        .unwrap_or_else(|_| Err("internal error (please report it)".into()));
        overall.inc(1);
        Outcome {
            pair: pair.clone(),
            result,
            warnings,
        }
    });
    overall.finish();

    let (text, tsv) = summary(&outcomes);
    let tsv_path = out_dir.join("summary.tsv");
    audio_io::write_text(&tsv_path, &tsv)?;
    print!("{text}");
    for o in &outcomes {
        for w in &o.warnings {
            warn(format!("{}: {w}", o.pair.name));
        }
    }
    say(format!("summary → {}", tsv_path.display()));
    let failed = outcomes.iter().filter(|o| o.result.is_err()).count();
    if failed > 0 {
        return Err(format!(
            "{failed} of {} pairs failed (see the table)",
            outcomes.len()
        ));
    }
    Ok(())
}

/// A table for people and the same as tab-separated values.
/// A mixed song's row of the summary.
fn mixed_row(name: &str, s: &MixSuggestion) -> Vec<String> {
    let eq: Vec<String> =
        s.eq.filters
            .iter()
            .map(|f| {
                format!(
                    "{:+.1}@{}",
                    f.gain_db,
                    engine::analysis::masking_eq::hz_text(f.hz)
                )
            })
            .collect();
    let f = |id: ParamId| id.spec().format(s.params.get(id));
    let lu = |v: Option<f64>| v.map_or("–".into(), |v| format!("{v:.1}"));
    vec![
        name.to_string(),
        if eq.is_empty() {
            "flat".into()
        } else {
            eq.join(" ")
        },
        format!("{} {}", f(ParamId::CompThreshold), f(ParamId::CompRatio)),
        format!(
            "{}→{}",
            lu(s.compression.loudness_range_before_lu),
            lu(s.compression.loudness_range_after_lu)
        ),
        format!(
            "{:.1}{}",
            s.reverb.tempo_bpm,
            match s.reverb.tempo_source {
                TempoSource::Caller => "",
                TempoSource::Estimated => " est.",
                TempoSource::Assumed => " assumed",
            }
        ),
        f(ParamId::ReverbTime),
        f(ParamId::LevelGain),
        s.inputs
            .vocal
            .integrated_lufs
            .map_or("–".into(), |v| format!("{v:.1} LUFS")),
        s.level
            .backing_lufs
            .map_or("–".into(), |v| format!("{v:.1} LUFS")),
        s.warnings.len().to_string(),
        "mixed".into(),
    ]
}

fn summary(outcomes: &[Outcome]) -> (String, String) {
    let header = [
        "song",
        "EQ",
        "compressor",
        "LRA before→after",
        "tempo",
        "reverb",
        "level",
        "vocal",
        "backing",
        "warnings",
        "status",
    ];
    let mut rows: Vec<Vec<String>> = Vec::new();
    for o in outcomes {
        let row = match &o.result {
            Ok(s) => mixed_row(&o.pair.name, s),
            Err(e) => {
                let mut r = vec![o.pair.name.clone()];
                r.extend(std::iter::repeat_n("–".to_string(), header.len() - 2));
                r.push(format!("failed: {e}"));
                r
            }
        };
        rows.push(row);
    }
    let widths: Vec<usize> = (0..header.len())
        .map(|c| {
            rows.iter()
                .map(|r| r[c].chars().count())
                .chain([header[c].chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut text = String::new();
    let line = |text: &mut String, cells: &[String]| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}", w = *w))
            .collect();
        let _ = writeln!(text, "{}", padded.join("  ").trim_end());
    };
    line(&mut text, &header.map(String::from));
    for r in &rows {
        line(&mut text, r);
    }
    let mut tsv = header.join("\t") + "\n";
    for r in &rows {
        tsv += &(r.join("\t") + "\n");
    }
    (text, tsv)
}
