//! References on the command line: `--reference SONG`, `--amount`, `--lock` (in `analyze`, `mix`
//! and `batch`), the measures cached so a song is separated once, and `automix reference`, which
//! prints what a song measures (or, with `--accuracy`, how separation changes the measures of
//! songs whose stems are known).

use std::fmt::Write as _;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use engine::analysis::library_profile::LibraryProfile;
use engine::analysis::reference::{
    self, MEASURES_VERSION, Measured, ReferenceError, ReferenceMeasures,
};
use engine::analysis::targets::{Kept, ReferenceTarget, Targets};
use engine::params::Stage;
use engine::separation::SeparationModels;
use serde::{Deserialize, Serialize};

use crate::progress::Progress;
use crate::render::{load, load_params};

/// How far each stage moves toward the reference, 0–1, in chain order.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Amounts(pub [f64; 4]);

impl Default for Amounts {
    fn default() -> Self {
        Amounts([1.0; 4])
    }
}

/// `70` (every stage), or `level=100,reverb=30` (the others at 100 %).
pub fn amounts(s: &str) -> Result<Amounts, String> {
    let percent = |v: &str| -> Result<f64, String> {
        let p: f64 = v
            .trim()
            .trim_end_matches('%')
            .parse()
            .map_err(|_| format!("`{v}` is not a percentage"))?;
        if (0.0..=100.0).contains(&p) {
            Ok(p / 100.0)
        } else {
            Err(format!("{p} %: an amount is from 0 to 100 %"))
        }
    };
    if !s.contains('=') {
        return Ok(Amounts([percent(s)?; 4]));
    }
    let mut out = [1.0; 4];
    for part in s.split(',') {
        let (stage, v) = part
            .split_once('=')
            .ok_or_else(|| format!("`{part}`: write STAGE=PERCENT, like level=100"))?;
        out[stage_named(stage)? as usize] = percent(v)?;
    }
    Ok(Amounts(out))
}

/// A stage by its key (`eq`, `compressor`, `reverb`, `level`).
pub fn stage_named(s: &str) -> Result<Stage, String> {
    let s = s.trim();
    Stage::ALL
        .into_iter()
        .find(|st| st.key() == s)
        .ok_or_else(|| {
            let keys: Vec<&str> = Stage::ALL.iter().map(|st| st.key()).collect();
            format!("`{s}` is not a stage ({})", keys.join(", "))
        })
}

/// The reference options of `analyze`, `mix` and `batch`.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct ReferenceArgs {
    /// A song to mix like: its vocal is separated and its balance, loudness range, tone and
    /// reverb become the targets (repeat for several: their measures average)
    #[arg(long = "reference", value_name = "SONG")]
    pub references: Vec<PathBuf>,
    /// A profile written by `automix learn`: mix like those songs (their medians)
    #[arg(long, conflicts_with = "references")]
    pub profile: Option<PathBuf>,
    /// How far each stage moves from its default target toward the reference's: a percentage
    /// for every stage, or STAGE=PERCENT,… (eq, compressor, reverb, level; the rest at 100)
    #[arg(long, value_parser = amounts, default_value = "100")]
    pub amount: Amounts,
    /// Stages to keep as they are, comma-separated (eq, compressor, reverb, level): their
    /// settings come from --current (or the defaults) and the other stages are decided with them
    #[arg(long, value_delimiter = ',', value_parser = stage_named)]
    pub lock: Vec<Stage>,
    /// The settings the locked stages keep: a parameter file or a suggestion
    #[arg(long, requires = "lock")]
    pub current: Option<PathBuf>,
    /// Where measured references are cached (`None`: the user's cache, [`cache_folder`]).
    #[arg(skip)]
    pub cache: Option<PathBuf>,
}

/// What the analysis is given from the reference options.
#[derive(Clone, Debug, Default)]
pub struct Prepared {
    pub targets: Option<Targets>,
    pub keep: Option<Kept>,
    /// For the suggestion's warnings: what was said about the references.
    pub notes: Vec<String>,
}

impl ReferenceArgs {
    /// Measures the references (or reads their cached measures) and reads the locked settings.
    pub fn prepare(&self, warn: &mut dyn FnMut(String)) -> Result<Prepared, String> {
        let mut notes = Vec::new();
        let mut all = Vec::new();
        let cache = Cache(self.cache.clone().or_else(cache_folder));
        for path in &self.references {
            match cache.measured(path, warn)? {
                Ok(m) => {
                    for n in &m.notes {
                        notes.push(format!("reference {}: {n}", path.display()));
                    }
                    all.push(m.measures);
                }
                Err(why) => notes.push(format!("reference {}: {why}", path.display())),
            }
        }
        notes.iter().cloned().for_each(&mut *warn);
        if let Some(path) = &self.profile {
            let p = LibraryProfile::read(path)?;
            return Ok(Prepared {
                targets: Some(Targets {
                    reference: Some(ReferenceTarget {
                        measures: p.median,
                        source: format!("the profile {} of {} songs", display_name(path), p.songs),
                        amounts: self.amount.0,
                    }),
                    ..Targets::built_in()
                }),
                keep: self.kept(warn)?,
                notes,
            });
        }
        let targets = reference::average(&all).map(|measures| Targets {
            reference: Some(ReferenceTarget {
                measures,
                source: match &self.references[..] {
                    [one] => display_name(one),
                    many => format!("{} references", many.len()),
                },
                amounts: self.amount.0,
            }),
            ..Targets::built_in()
        });
        Ok(Prepared {
            targets,
            keep: self.kept(warn)?,
            notes,
        })
    }

    fn kept(&self, warn: &mut dyn FnMut(String)) -> Result<Option<Kept>, String> {
        if self.lock.is_empty() {
            return Ok(None);
        }
        Ok(Some(Kept {
            params: match &self.current {
                Some(p) => load_params(p, warn)?,
                None => engine::MixParams::default(),
            },
            stages: self.lock.clone(),
        }))
    }
}

fn display_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into(),
    )
}

/// Where measured references are kept: `$VOCAL_AUTOMIX_CACHE`, else `$XDG_CACHE_HOME/vocal-automix`
/// or `~/.cache/vocal-automix` (`None`: nowhere to keep them, every run measures).
pub fn cache_folder() -> Option<PathBuf> {
    let env = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    env("VOCAL_AUTOMIX_CACHE")
        .or_else(|| env("XDG_CACHE_HOME").map(|d| d.join("vocal-automix")))
        .or_else(|| env("HOME").map(|d| d.join(".cache").join("vocal-automix")))
}

#[derive(Serialize, Deserialize)]
struct CacheEntry {
    key: String,
    file: String,
    measures: ReferenceMeasures,
    notes: Vec<String>,
}

/// What identifies a reference's measures: the file (path, size, modification time), the
/// measures' version and the separator that made them.
fn cache_key(path: &Path) -> Option<String> {
    let canonical = path.canonicalize().ok()?;
    let meta = std::fs::metadata(&canonical).ok()?;
    let modified = meta
        .modified()
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?;
    let models = engine::analysis::cnn::chosen_models_folder().map_or_else(
        || {
            format!(
                "built in {}",
                engine::separation::models::built_in_identity()
            )
        },
        |d| d.display().to_string(),
    );
    Some(format!(
        "v{MEASURES_VERSION} {} {} {} {} automix {}",
        canonical.display(),
        meta.len(),
        modified.as_nanos(),
        models,
        env!("CARGO_PKG_VERSION")
    ))
}

/// Where measured references are kept (`None`: nowhere, every run measures).
#[derive(Clone, Debug)]
pub struct Cache(pub Option<PathBuf>);

impl Cache {
    /// The user's cache ([`cache_folder`]).
    pub fn user() -> Cache {
        Cache(cache_folder())
    }

    fn file(&self, key: &str) -> Option<PathBuf> {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        key.hash(&mut h);
        Some(
            self.0
                .as_ref()?
                .join("references")
                .join(format!("{:016x}.json", h.finish())),
        )
    }

    /// A reference's measures: from the cache when this very file was measured before, otherwise
    /// separated and measured (and cached). `Err`: it cannot be read (the command stops);
    /// `Ok(Err)`: nothing to use in it (the defaults stay, with the reason).
    pub fn measured(
        &self,
        path: &Path,
        warn: &mut dyn FnMut(String),
    ) -> Result<Result<Measured, String>, String> {
        let bar = Progress::new("reference", 1000);
        bar.set_message(display_name(path));
        let m = self.measured_with(path, warn, &mut |f| bar.set((f * 1000.0) as u64));
        bar.finish();
        m
    }

    /// Whether `path`'s measures are in the cache (a `learn` run reports what it reuses).
    pub fn is_cached(&self, path: &Path) -> bool {
        self.cached(path).is_some()
    }

    fn cached(&self, path: &Path) -> Option<Measured> {
        let key = cache_key(path)?;
        let text = std::fs::read_to_string(self.file(&key)?).ok()?;
        match serde_json::from_str::<CacheEntry>(&text) {
            Ok(e) if e.key == key => Some(Measured {
                measures: e.measures,
                notes: e.notes,
            }),
            // another file with the same hash, or a damaged entry: measure again
            _ => None,
        }
    }

    /// [`measured`] reporting progress as a share of the work (0–1) instead of drawing a bar.
    pub fn measured_with(
        &self,
        path: &Path,
        warn: &mut dyn FnMut(String),
        progress: &mut dyn FnMut(f32),
    ) -> Result<Result<Measured, String>, String> {
        if let Some(m) = self.cached(path) {
            return Ok(Ok(m));
        }
        let key = cache_key(path);
        let file = key.as_deref().and_then(|k| self.file(k));
        let audio = load(path, "reference", warn).map_err(|e| format!("reference: {e}"))?;
        let models = SeparationModels::shared();
        let result = reference::measure_song(
            models,
            audio.channels,
            audio.sample_rate,
            &mut |stage, f| {
                let (base, span) = match stage {
                    "vocal activity" => (0.0, 0.15),
                    "spectrum" => (0.15, 0.05),
                    "separating" => (0.2, 0.65),
                    _ => (0.85, 0.15),
                };
                progress(base + span * f.clamp(0.0, 1.0));
            },
            None,
        );
        match result {
            Ok(m) => {
                if let (Some(key), Some(file)) = (key, file) {
                    let entry = CacheEntry {
                        key,
                        file: path.display().to_string(),
                        measures: m.measures.clone(),
                        notes: m.notes.clone(),
                    };
                    // a cache that cannot be written costs the next run a separation, nothing more
                    if let Some(dir) = file.parent()
                        && std::fs::create_dir_all(dir).is_ok()
                    {
                        let tmp = file.with_extension("json.tmp");
                        let text = serde_json::to_string_pretty(&entry).expect("serialises");
                        if std::fs::write(&tmp, text).is_ok() {
                            let _ = std::fs::rename(&tmp, &file);
                        }
                    }
                }
                Ok(Ok(m))
            }
            Err(e @ ReferenceError::NoSinging { .. }) => Ok(Err(e.to_string())),
            // the CLI passes no cancel flag, so this is never seen; said plainly if it were
            Err(
                e @ (ReferenceError::File(_)
                | ReferenceError::Model(_)
                | ReferenceError::Unusable(_)
                | ReferenceError::Cancelled),
            ) => Err(format!("reference {}: {e}", path.display())),
        }
    }
}

/// One measure as text.
pub(crate) fn lu(v: Option<f64>) -> String {
    v.map_or("–".into(), |v| format!("{v:+.1}"))
}

/// ", confidence 85 %" after a separated measure (nothing for one measured from stems).
fn confidence(m: &ReferenceMeasures, stage: Stage) -> String {
    m.confidence.as_ref().map_or(String::new(), |c| {
        let w = c.confidence_of_stage(stage);
        let low = if w < reference::LOW_CONFIDENCE {
            " (low: the assistant leans toward its own target)"
        } else {
            ""
        };
        format!(", confidence {:.0} %{low}", w * 100.0)
    })
}

/// The measures a person reads.
pub fn describe(m: &ReferenceMeasures) -> String {
    let mut o = String::new();
    let error = m
        .confidence
        .as_ref()
        .map_or(String::new(), |c| format!(" ± {:.1}", c.balance_error_lu));
    let _ = writeln!(
        o,
        "  vocal minus backing  {}{error} LU (as both play){}",
        lu(m.vocal_minus_backing_lu),
        confidence(m, Stage::Level)
    );
    let _ = writeln!(
        o,
        "  vocal loudness range {} LU{}",
        m.vocal_loudness_range_lu
            .map_or("–".into(), |v| format!("{v:.1}")),
        confidence(m, Stage::Compressor)
    );
    let _ = writeln!(
        o,
        "  vocal tail           {} dB (100–300 ms after phrase ends, relative to the singing){}",
        lu(m.reverb_tail_db),
        confidence(m, Stage::Reverb)
    );
    if let Some(t) = m.tone_relative_db {
        let bands: Vec<String> = t.iter().map(|v| format!("{v:.1}")).collect();
        let _ = writeln!(
            o,
            "  vocal tone           {} dB (63 Hz … 16 kHz, relative to its loudness){}",
            bands.join(" "),
            confidence(m, Stage::Eq)
        );
    }
    let _ = writeln!(
        o,
        "  singing              {:.1} s of {:.1} s",
        m.sung_seconds, m.seconds
    );
    o
}

/// `automix reference`: what songs measure as references, or how separation changes the
/// measures of songs whose stems are known.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Mixed songs (any format the decoder takes); with --accuracy, song folders holding
    /// vocals.* and accompaniment.* (or drums, bass, other) and mixture.*
    #[arg(required = true)]
    pub songs: Vec<PathBuf>,
    /// Print JSON
    #[arg(long)]
    pub json: bool,
    /// For each song folder: the measures of the separated mixture against those of the true
    /// stems, their confidence, and the song's vocal mixed with its own mixture as the
    /// reference; then every song's vocal mixed like every other song
    #[arg(long)]
    pub accuracy: bool,
}

impl Args {
    pub fn run(self, warn: &mut dyn FnMut(String)) -> Result<(), String> {
        if self.accuracy {
            return crate::reference_accuracy::run(&self.songs, self.json, warn);
        }
        let mut rows = Vec::new();
        for path in &self.songs {
            match Cache::user().measured(path, warn)? {
                Ok(m) => {
                    m.notes
                        .iter()
                        .for_each(|n| warn(format!("reference {}: {n}", path.display())));
                    rows.push((path.display().to_string(), Some(m.measures)));
                }
                Err(why) => {
                    warn(format!("reference {}: {why}", path.display()));
                    rows.push((path.display().to_string(), None));
                }
            }
        }
        if self.json {
            let v: Vec<serde_json::Value> = rows
                .iter()
                .map(|(f, m)| serde_json::json!({"file": f, "measures": m}))
                .collect();
            println!("{}", serde_json::to_string_pretty(&v).expect("serialises"));
        } else {
            for (f, m) in &rows {
                match m {
                    Some(m) => print!("{f}\n{}", describe(m)),
                    None => println!("{f}\n  nothing measured (see the warning)"),
                }
            }
            let all: Vec<ReferenceMeasures> = rows.iter().filter_map(|(_, m)| m.clone()).collect();
            if all.len() > 1
                && let Some(avg) = reference::average(&all)
            {
                print!(
                    "the {} together (what --reference gives the assistant)\n{}",
                    all.len(),
                    describe(&avg)
                );
            }
        }
        Ok(())
    }
}
