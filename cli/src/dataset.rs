//! `automix dataset`: training data for the CNN assistant, made by the same code that makes the
//! CNNs' input at inference (`engine::analysis::cnn_features`), so the two cannot drift apart.
//!
//! Sources found under the input folder:
//! - MUSDB18-HQ's layout: a folder holding `vocals.wav` and the other stems (`drums`, `bass`,
//!   `other`), which are summed as the backing. Split by song.
//! - MIR-1K's clips: two-channel files named `<singer>_<song>_<n>` (backing left, vocal right).
//!   Split by singer, so no voice is heard in two splits.
//!
//! Task `eq` (self-supervised, as the research did): each source gets `draws` random EQs on its
//! vocal — 4 of the 9 bands, gains uniform in ±15 dB, Q 1, rendered by our own EQ — and every
//! block of the EQ'd vocal with its backing is one example, its target the 9 gains (0 where the
//! band was left alone).
//!
//! Written to `OUT/<task>/`: `features.f32` (little-endian, examples × 2 × 128 × 64),
//! `targets.f32` (examples × outputs), `blocks.tsv` (per example: its source, split group, split
//! and draw) and `meta.json` (shapes, output names and ranges, counts per split, the sources and
//! what their licences allow).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use engine::ParamId;
use engine::analysis::Track;
use engine::analysis::cnn_features::{BLOCK_FRAMES, BLOCK_LEN, feature_blocks};
use engine::analysis::mel::MELS;
use engine::analysis::reference::{self, ReferenceMeasures};
use engine::params::{EQ_BANDS, Stage};
use engine::separation::{self, SeparationModels};
use engine::synth::Rng;
use engine::{MixParams, VocalChain};
use serde_json::json;

use crate::audio_io;
use crate::cli_args::{ModelChoice, share};

/// Bands a random EQ changes, and the range of their gains (dB).
pub const EQ_CHANGED_BANDS: usize = 4;
pub const EQ_GAIN_DB: f32 = 15.0;

/// Whether a model's targets are a mixing decision the sources must carry (not made up here).
fn needs_mixing_decisions(task: Stage) -> bool {
    matches!(task, Stage::Level | Stage::Compressor)
}

/// A model's output names and the range each is normalised from (to [0, 1] in training):
/// - EQ, self-supervised: random EQs on the vocal; the 9 gains;
/// - compressor: the vocal's loudness range in the mix, LU;
/// - reverb, self-supervised: our FDN with random settings on the vocal; the 10 settings;
/// - level: the vocal-to-backing loudness difference the mix chose, LU.
pub fn task_outputs(task: Stage) -> Vec<(&'static str, f32, f32)> {
    match task {
        Stage::Eq => EQ_BANDS
            .iter()
            .map(|(_, g, _)| (g.key(), -EQ_GAIN_DB, EQ_GAIN_DB))
            .collect(),
        Stage::Level => vec![("vocal_minus_backing_lu", -20.0, 10.0)],
        Stage::Compressor => vec![("vocal_loudness_range_lu", 0.0, 30.0)],
        Stage::Reverb => REVERB_DRAWS
            .iter()
            .map(|(id, lo, hi, _)| (id.key(), *lo, *hi))
            .collect(),
    }
}

/// The reverb settings a draw varies, and from where (logarithmic where the ear hears ratios).
/// The FDN size stays at its default: it changes density, which the research did not predict.
pub const REVERB_DRAWS: [(ParamId, f32, f32, bool); 10] = [
    (ParamId::ReverbRoomSize, 1.0, 30.0, false),
    (ParamId::ReverbTime, 0.3, 4.0, true),
    (ParamId::ReverbFadeIn, 0.0, 1.5, false),
    (ParamId::ReverbDryWet, 0.05, 0.5, false),
    (ParamId::ReverbLowCutoff, 20.0, 500.0, true),
    (ParamId::ReverbLowQ, 0.1, 0.9, false),
    (ParamId::ReverbLowGain, -20.0, 6.0, false),
    (ParamId::ReverbHighCutoff, 1000.0, 20000.0, true),
    (ParamId::ReverbHighQ, 0.1, 0.9, false),
    (ParamId::ReverbHighGain, -30.0, 4.0, false),
];

/// `automix dataset`: training data for the CNN assistant from a folder of stems (MUSDB18-HQ song
/// folders, or MIR-1K clips with the backing left and the vocal right).
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The folder with the sources
    pub input: PathBuf,
    /// Where OUT/<task>/ goes (features.f32, targets.f32, blocks.tsv, meta.json)
    #[arg(long)]
    pub out: PathBuf,
    /// Which model to make targets for: eq and reverb (self-supervised: random EQs or reverbs on
    /// the vocal), level and compression (measured on stems that carry a mixing decision)
    #[arg(long, value_enum, default_value_t = ModelChoice(Stage::Eq))]
    pub task: ModelChoice,
    /// Level and compression: also sources whose balance is not a mixing decision (MIR-1K)
    #[arg(long)]
    pub include_unmixed: bool,
    /// Level and compression from mixed songs: every audio file that is neither a MIR-1K clip
    /// nor in a stem folder is a song, separated into its vocal and backing (the research's own
    /// method, on your library); the targets are the separated song's measures
    #[arg(long)]
    pub separate: bool,
    /// Random EQs or reverbs per source
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub draws: u32,
    /// Seed for the draws and the splits
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Share of the singers (MIR-1K) or songs (MUSDB) held out for validation
    #[arg(long, default_value_t = 0.15, value_parser = share)]
    pub validation: f64,
    /// Share held out for the final test
    #[arg(long, default_value_t = 0.15, value_parser = share)]
    pub test: f64,
}

impl Args {
    pub fn run(self, say: &mut dyn FnMut(String)) -> Result<(), String> {
        if self.validation + self.test >= 1.0 {
            return Err("--validation and --test leave nothing to train on".into());
        }
        if self.separate && !needs_mixing_decisions(self.task.0) {
            return Err(format!(
                "--separate makes level and compression data; the {} task is self-supervised on clean vocals",
                self.task.0.model_name()
            ));
        }
        let job = DatasetJob {
            input: self.input,
            out: self.out,
            task: self.task.0,
            include_unmixed: self.include_unmixed,
            separate: self.separate,
            draws: self.draws as usize,
            seed: self.seed,
            validation: self.validation,
            test: self.test,
        };
        let s = run(&job, say)?;
        println!(
            "{} sources; examples: {} train, {} validation, {} test; written to {}",
            s.sources,
            s.examples[0],
            s.examples[1],
            s.examples[2],
            job.out.join(job.task.model_name()).display()
        );
        Ok(())
    }
}

pub struct DatasetJob {
    pub input: PathBuf,
    pub out: PathBuf,
    pub task: Stage,
    /// Random EQs or reverbs per source (the measured tasks have one example set per source).
    pub draws: usize,
    /// Level and compression: also sources whose balance is not a mixing decision (MIR-1K).
    pub include_unmixed: bool,
    /// Mixed songs are sources too, separated.
    pub separate: bool,
    pub seed: u64,
    /// Shares of the split groups (singers, songs) held out for validation and test.
    pub validation: f64,
    pub test: f64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    Musdb,
    Mir1k,
    /// A mixed song, separated (`--separate`).
    Mixed,
}

#[derive(Clone, Debug)]
pub struct Source {
    pub id: String,
    /// What the split keeps together: the singer (MIR-1K) or the song (MUSDB).
    pub group: String,
    pub layout: Layout,
    pub path: PathBuf,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Split {
    Train,
    Validation,
    Test,
}

impl Split {
    pub fn name(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Validation => "validation",
            Split::Test => "test",
        }
    }
}

/// What was written.
#[derive(Debug, Default)]
pub struct Summary {
    pub sources: usize,
    pub skipped: Vec<String>,
    pub examples: [usize; 3],
}

const STEMS: [&str; 3] = ["drums", "bass", "other"];

/// An audio file `name.<ext>` in `dir`, for any extension the decoder reads.
fn audio_file(dir: &Path, name: &str) -> Option<PathBuf> {
    audio_io::AUDIO_EXTENSIONS
        .iter()
        .map(|e| dir.join(format!("{name}.{e}")))
        .find(|p| p.is_file())
}

/// MIR-1K's clip names: `<singer>_<song>_<n>`.
fn mir1k_singer(stem: &str) -> Option<&str> {
    let mut parts = stem.split('_');
    let (singer, song, n) = (parts.next()?, parts.next()?, parts.next()?);
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    (parts.next().is_none() && !singer.is_empty() && digits(song) && digits(n)).then_some(singer)
}

/// Every source under `dir`, in path order; with `mixed`, mixed songs too.
pub fn find_sources(dir: &Path, mixed: bool) -> Result<Vec<Source>, String> {
    if !dir.is_dir() {
        return Err(format!("{}: not a folder", dir.display()));
    }
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        if let Some(vocals) = audio_file(&d, "vocals")
            && STEMS.iter().any(|s| audio_file(&d, s).is_some())
        {
            let name = d
                .file_name()
                .map_or("song".into(), |n| n.to_string_lossy().into_owned());
            out.push(Source {
                id: format!("musdb/{name}"),
                group: format!("musdb/{name}"),
                layout: Layout::Musdb,
                path: vocals.parent().unwrap().to_path_buf(),
            });
            continue;
        }
        let entries = std::fs::read_dir(&d).map_err(|e| format!("{}: {e}", d.display()))?;
        for entry in entries.flatten() {
            let p = entry.path();
            if p.is_dir() {
                stack.push(p);
            } else if let Some(stem) = p.file_stem().filter(|_| audio_io::is_audio_file_name(&p)) {
                let stem = stem.to_string_lossy();
                if let Some(singer) = mir1k_singer(&stem) {
                    out.push(Source {
                        id: format!("mir1k/{stem}"),
                        group: format!("mir1k/{singer}"),
                        layout: Layout::Mir1k,
                        path: p.clone(),
                    });
                } else if mixed {
                    let rel = p.strip_prefix(dir).unwrap_or(&p).display().to_string();
                    out.push(Source {
                        id: format!("mixed/{rel}"),
                        group: format!("mixed/{rel}"),
                        layout: Layout::Mixed,
                        path: p.clone(),
                    });
                }
            }
        }
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

/// The vocal and the backing (mono at the analysis rate, and as they play in the mix), and for a
/// separated song its measures (the targets: the separator's mask splits each cell's energy, see
/// `engine::analysis::reference`).
fn load(source: &Source) -> Result<(Track, Track, Option<ReferenceMeasures>), String> {
    if source.layout == Layout::Mixed {
        let (audio, _) = audio_io::read(&source.path)?;
        let rate = audio.sample_rate;
        let models = SeparationModels::shared();
        let mono = separation::downmix(&audio.channels);
        let mask = separation::vocal_mask(models, &mono, rate, &mut |_, _| {}, None)?;
        let measures = reference::measure_split(
            &audio.channels,
            &mono,
            rate,
            &mask,
            mono.len() as f64 / rate as f64,
        );
        let vocal: Vec<Vec<f32>> = audio
            .channels
            .iter()
            .map(|c| separation::apply_mask(c, &mask.mask, &mask.geometry))
            .collect();
        let backing: Vec<Vec<f32>> = audio
            .channels
            .iter()
            .zip(&vocal)
            .map(|(c, v)| c.iter().zip(v).map(|(x, y)| x - y).collect())
            .collect();
        let v = Track::from_channels(&vocal, rate)?;
        let b = Track::from_channels(&backing, rate)?;
        return Ok((v, b, Some(measures)));
    }
    let (v, b) = load_stems(source)?;
    Ok((v, b, None))
}

fn load_stems(source: &Source) -> Result<(Track, Track), String> {
    match source.layout {
        Layout::Mixed => Err("a mixed song is separated, not read as stems".into()),
        Layout::Mir1k => {
            let (audio, _) = audio_io::read(&source.path)?;
            let [backing, vocal] = audio.channels.as_slice() else {
                return Err(format!(
                    "{}: {} channels; a MIR-1K clip has two (backing left, vocal right)",
                    source.path.display(),
                    audio.channels.len()
                ));
            };
            let rate = audio.sample_rate;
            let v = Track::from_channels(std::slice::from_ref(vocal), rate)?;
            let b = Track::from_channels(std::slice::from_ref(backing), rate)?;
            Ok((v, b))
        }
        Layout::Musdb => {
            let dir = &source.path;
            let (vocals, _) = audio_io::read(&audio_file(dir, "vocals").unwrap())?;
            let mut backing: Vec<Vec<f32>> = Vec::new();
            for stem in STEMS {
                let Some(p) = audio_file(dir, stem) else {
                    continue;
                };
                let (a, _) = audio_io::read(&p)?;
                if a.sample_rate != vocals.sample_rate {
                    return Err(format!(
                        "{}: {} Hz, the vocals {} Hz",
                        p.display(),
                        a.sample_rate,
                        vocals.sample_rate
                    ));
                }
                if backing.is_empty() {
                    backing = a.channels;
                } else {
                    for (sum, c) in backing.iter_mut().zip(&a.channels) {
                        sum.resize(sum.len().max(c.len()), 0.0);
                        sum.iter_mut().zip(c).for_each(|(s, x)| *s += x);
                    }
                }
            }
            let rate = vocals.sample_rate;
            let v = Track::from_channels(&vocals.channels, rate)?;
            let b = Track::from_channels(&backing, rate)?;
            Ok((v, b))
        }
    }
}

/// FNV-1a, for seeds and splits that do not depend on the order sources are found in.
fn hash(text: &str, seed: u64) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64 ^ seed;
    for b in text.bytes() {
        h = (h ^ b as u64).wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// Each group's split. Groups (with their number of sources) are taken in the order of a seeded
/// hash; a group goes to test while test holds under its share of all sources and the group fits,
/// then likewise to validation, else to training. So the held-out shares are shares of the sources,
/// not of the groups (MIR-1K's two main singers have 175 clips each, the others 2 to 10). With
/// fewer than three groups everything trains.
pub fn assign_splits(
    groups: &[(String, usize)],
    seed: u64,
    validation: f64,
    test: f64,
) -> Vec<(String, Split)> {
    let mut g: Vec<(String, usize)> = groups.to_vec();
    g.sort();
    g.dedup_by(|a, b| a.0 == b.0);
    g.sort_by_key(|(name, _)| hash(name, seed));
    let total: usize = g.iter().map(|x| x.1).sum();
    // fewer than three groups cannot be split three ways: all of it trains
    let held = g.len() >= 3;
    let (want_test, want_val) = (test * total as f64, validation * total as f64);
    let (mut in_test, mut in_val) = (0usize, 0usize);
    g.into_iter()
        .map(|(name, n)| {
            let fits =
                |taken: usize, want: f64| held && want > 0.0 && (taken + n) as f64 <= want.max(1.0);
            let split = if fits(in_test, want_test) {
                in_test += n;
                Split::Test
            } else if fits(in_val, want_val) {
                in_val += n;
                Split::Validation
            } else {
                Split::Train
            };
            (name, split)
        })
        .collect()
}

/// One random EQ: 4 of the 9 bands, gains uniform in ±15 dB; the rest 0.
pub fn random_eq(rng: &mut Rng) -> [f32; 9] {
    let mut bands: [usize; 9] = std::array::from_fn(|i| i);
    for i in 0..EQ_CHANGED_BANDS {
        let j = i + (rng.next_u64() % (9 - i) as u64) as usize;
        bands.swap(i, j);
    }
    let mut gains = [0.0f32; 9];
    for &b in &bands[..EQ_CHANGED_BANDS] {
        // never exactly 0: a changed band stays changed
        gains[b] = (EQ_GAIN_DB * rng.bipolar()).clamp(-EQ_GAIN_DB, EQ_GAIN_DB);
        if gains[b] == 0.0 {
            gains[b] = 0.1;
        }
    }
    gains
}

/// The vocal through our EQ alone with `gains` (Q 1), as the chain renders it.
pub fn apply_eq(vocal: &[f32], gains: &[f32; 9]) -> Vec<f32> {
    let mut p = MixParams::default();
    for ((_, gain, q), g) in EQ_BANDS.iter().zip(gains) {
        p.set(*gain, *g);
        p.set(*q, 1.0);
    }
    // the EQ treats both sides alike: one is the result
    render_alone(vocal, Stage::Eq, &mut p).0
}

/// The mono vocal, on both sides, through `stage` alone of the chain with `p` (the other stages
/// bypassed here), at the analysis rate; the two output channels.
fn render_alone(vocal: &[f32], stage: Stage, p: &mut MixParams) -> (Vec<f32>, Vec<f32>) {
    for other in Stage::ALL.into_iter().filter(|s| *s != stage) {
        p.set(other.bypass(), 1.0);
    }
    let mut chain = VocalChain::new();
    chain.set_params_immediate(p);
    chain
        .prepare(engine::analysis::ANALYSIS_RATE as f32)
        .expect("the analysis rate is supported");
    let (mut l, mut r) = (vocal.to_vec(), vocal.to_vec());
    chain.process_stereo(&mut l, &mut r);
    (l, r)
}

/// One random reverb: each of [`REVERB_DRAWS`] uniform (or log-uniform) in its range.
pub fn random_reverb(rng: &mut Rng) -> [f32; 10] {
    REVERB_DRAWS.map(|(_, lo, hi, log)| {
        let u = rng.uniform();
        if log {
            lo * (hi / lo).powf(u)
        } else {
            lo + (hi - lo) * u
        }
    })
}

/// The vocal through our reverb alone with `settings` (in [`REVERB_DRAWS`] order), folded to
/// mono as the features take it.
pub fn apply_reverb(vocal: &[f32], settings: &[f32; 10]) -> Vec<f32> {
    let mut p = MixParams::default();
    for ((id, ..), v) in REVERB_DRAWS.iter().zip(settings) {
        p.set(*id, *v);
    }
    let (l, r) = render_alone(vocal, Stage::Reverb, &mut p);
    l.iter().zip(&r).map(|(a, b)| 0.5 * (a + b)).collect()
}

/// The vocal as the model sees it, and the targets for it.
type Example = (Vec<f32>, Vec<f32>);

/// A source's examples for `task`. `Err` says why the source gives none.
fn examples(
    task: Stage,
    job: &DatasetJob,
    source: &Source,
    vocal: &Track,
    backing: &Track,
    separated: Option<&ReferenceMeasures>,
) -> Result<Vec<Example>, String> {
    let mut rng = Rng::new(hash(&source.id, job.seed));
    if let Some(m) = separated {
        let target = match task {
            Stage::Level => m.vocal_minus_backing_lu,
            _ => m.vocal_loudness_range_lu,
        };
        return target
            .map(|t| vec![(vocal.mono.clone(), vec![t as f32])])
            .ok_or_else(|| "the separated vocal or backing is silent or too short".into());
    }
    Ok(match task {
        Stage::Eq => (0..job.draws)
            .map(|_| {
                let gains = random_eq(&mut rng);
                (apply_eq(&vocal.mono, &gains), gains.to_vec())
            })
            .collect(),
        Stage::Reverb => (0..job.draws)
            .map(|_| {
                let settings = random_reverb(&mut rng);
                (apply_reverb(&vocal.mono, &settings), settings.to_vec())
            })
            .collect(),
        Stage::Level => {
            let (Some(v), Some(b)) = (
                vocal.info.played.integrated(),
                backing.info.played.integrated(),
            ) else {
                return Err("the vocal or the backing is silent".into());
            };
            vec![(vocal.mono.clone(), vec![(v - b) as f32])]
        }
        Stage::Compressor => {
            let Some(range) = vocal.info.played.loudness_range() else {
                return Err("the vocal is too short or silent for a loudness range".into());
            };
            vec![(vocal.mono.clone(), vec![range as f32])]
        }
    })
}

/// The sources under the input that can give this task's targets (the others are said, and
/// take no part in the split either).
fn usable_sources(
    job: &DatasetJob,
    summary: &mut Summary,
    say: &mut dyn FnMut(String),
) -> Result<Vec<Source>, String> {
    let sources = find_sources(&job.input, job.separate)?;
    if sources.is_empty() {
        return Err(format!(
            "{}: no sources (MUSDB folders with vocals.wav and stems, or MIR-1K clips named singer_song_n)",
            job.input.display()
        ));
    }
    let unmixed = |s: &Source| {
        needs_mixing_decisions(job.task) && s.layout == Layout::Mir1k && !job.include_unmixed
    };
    let left_out = sources.iter().filter(|s| unmixed(s)).count();
    if left_out > 0 {
        say(format!(
            "{left_out} MIR-1K clips left out: their vocal-to-backing balance is not a mixing decision (their channels were normalised); --include-unmixed takes them anyway"
        ));
        summary.skipped.push(format!(
            "{left_out} MIR-1K clips: not a mixing decision (--include-unmixed takes them)"
        ));
    }
    let sources: Vec<Source> = sources.into_iter().filter(|s| !unmixed(s)).collect();
    if sources.is_empty() {
        return Err(format!(
            "{}: no sources that carry a mixing decision for the {} task (MUSDB song folders)",
            job.input.display(),
            job.task.model_name()
        ));
    }
    Ok(sources)
}

/// `meta.json`: what the dataset holds, how it was made, its split and its licences.
fn write_meta(
    dir: &Path,
    job: &DatasetJob,
    summary: &Summary,
    splits: &[(String, Split)],
    layouts: &[Layout],
) -> Result<(), String> {
    let licences: Vec<serde_json::Value> = layouts
        .iter()
        .map(|l| match l {
            Layout::Mir1k => json!({
                "layout": "MIR-1K clips (backing left, vocal right)",
                "licence": "MIR-1K (Jang et al.): research use",
                "real_mixing_decisions": false,
                "note": "the two channels were normalised to about the same RMS, so their level relation is not a mixing decision",
            }),
            Layout::Mixed => json!({
                "layout": "mixed songs, separated by the engine's separator",
                "licence": "the user's own songs",
                "real_mixing_decisions": true,
                "note": "targets measured from the separator's mask (its measures of professional songs are within a few LU of their stems', docs/reference.md)",
            }),
            Layout::Musdb => json!({
                "layout": "MUSDB18(-HQ) stems",
                "licence": "MUSDB18: research and non-commercial use (stems of several licences)",
                "real_mixing_decisions": true,
            }),
        })
        .collect();
    let meta = json!({
        "format": "automix-dataset",
        "version": 1,
        "task": job.task.model_name(),
        "input_shape": [2, MELS, BLOCK_FRAMES],
        "input": "mel power spectrograms, 44.1 kHz, FFT 2048, hop 1024, 128 Slaney mel bands; channel 0 the vocal, 1 the backing; each channel of a block divided by its maximum; frames under the vocal-activity gate left out (engine::analysis::cnn_features)",
        "dtype": "float32, little-endian",
        "outputs": task_outputs(job.task).iter().map(|(n, lo, hi)| json!({"name": n, "min": lo, "max": hi})).collect::<Vec<_>>(),
        "generation": match job.task {
            Stage::Eq => json!({
                "kind": "self-supervised: random EQs on the vocal, rendered by engine's EQ",
                "draws_per_source": job.draws,
                "changed_bands": EQ_CHANGED_BANDS,
                "gain_db": [-EQ_GAIN_DB, EQ_GAIN_DB],
                "q": 1.0,
            }),
            Stage::Reverb => json!({
                "kind": "self-supervised: engine's FDN reverb with random settings on the vocal (uniform, log-uniform where marked)",
                "draws_per_source": job.draws,
                "ranges": REVERB_DRAWS.iter().map(|(id, lo, hi, log)| json!({"name": id.key(), "min": lo, "max": hi, "log": log})).collect::<Vec<_>>(),
            }),
            Stage::Level | Stage::Compressor => json!({
                "kind": "measured on the stems as they play in the mix (BS.1770 integrated loudness, EBU Tech 3342 loudness range)",
                "include_unmixed": job.include_unmixed,
            }),
        },
        "seed": job.seed,
        "split_by": "singer for MIR-1K, song for MUSDB",
        "examples": {
            "train": summary.examples[0],
            "validation": summary.examples[1],
            "test": summary.examples[2],
        },
        "groups": splits.iter().map(|(g, s)| json!({"group": g, "split": s.name()})).collect::<Vec<_>>(),
        "sources": summary.sources,
        "skipped": summary.skipped,
        "licences": licences,
    });
    std::fs::write(
        dir.join("meta.json"),
        serde_json::to_string_pretty(&meta).unwrap() + "\n",
    )
    .map_err(|e| format!("{}: {e}", dir.join("meta.json").display()))?;
    Ok(())
}

/// Each group (a singer, a song) in its split, whole: no group is in two.
fn group_splits(sources: &[Source], job: &DatasetJob) -> Vec<(String, Split)> {
    let mut groups: Vec<(String, usize)> = Vec::new();
    for s in sources {
        match groups.iter_mut().find(|g| g.0 == s.group) {
            Some(g) => g.1 += 1,
            None => groups.push((s.group.clone(), 1)),
        }
    }
    assign_splits(&groups, job.seed, job.validation, job.test)
}

/// The dataset's three files as examples are written: features, targets, and the index that
/// says which source, group, split and draw each block came from.
struct Writers {
    dir: PathBuf,
    features: BufWriter<File>,
    targets: BufWriter<File>,
    index: BufWriter<File>,
    /// Blocks written so far.
    example: usize,
}

impl Writers {
    fn create(dir: &Path) -> Result<Writers, String> {
        let create = |name: &str| {
            File::create(dir.join(name))
                .map(BufWriter::new)
                .map_err(|e| format!("{}: {e}", dir.join(name).display()))
        };
        let mut w = Writers {
            dir: dir.to_path_buf(),
            features: create("features.f32")?,
            targets: create("targets.f32")?,
            index: create("blocks.tsv")?,
            example: 0,
        };
        writeln!(
            w.index,
            "example\tsource\tgroup\tsplit\tdraw\tmixing_decision"
        )
        .map_err(|e| w.io(e))?;
        Ok(w)
    }

    fn io(&self, e: std::io::Error) -> String {
        format!("{}: {e}", self.dir.display())
    }

    /// Every block of every draw `made` from `source`; returns how many blocks.
    fn source(
        &mut self,
        source: &Source,
        split: Split,
        made: &[Example],
        backing: &Track,
    ) -> Result<usize, String> {
        let first = self.example;
        for (draw, (heard, target)) in made.iter().enumerate() {
            let blocks = feature_blocks(heard, Some(&backing.mono));
            for b in 0..blocks.len() {
                for x in blocks.block(b) {
                    self.features
                        .write_all(&x.to_le_bytes())
                        .map_err(|e| self.io(e))?;
                }
                for t in target {
                    self.targets
                        .write_all(&t.to_le_bytes())
                        .map_err(|e| self.io(e))?;
                }
                writeln!(
                    self.index,
                    "{}\t{}\t{}\t{}\t{draw}\t{}",
                    self.example,
                    source.id,
                    source.group,
                    split.name(),
                    source.layout != Layout::Mir1k
                )
                .map_err(|e| self.io(e))?;
                self.example += 1;
            }
        }
        Ok(self.example - first)
    }

    fn flush(&mut self) -> Result<(), String> {
        for w in [&mut self.features, &mut self.targets, &mut self.index] {
            w.flush()
                .map_err(|e| format!("{}: {e}", self.dir.display()))?;
        }
        Ok(())
    }
}

pub fn run(job: &DatasetJob, say: &mut dyn FnMut(String)) -> Result<Summary, String> {
    let mut summary = Summary::default();
    let sources = usable_sources(job, &mut summary, say)?;
    let splits = group_splits(&sources, job);
    let split_of = |g: &str| {
        splits
            .iter()
            .find(|(n, _)| n == g)
            .map_or(Split::Train, |s| s.1)
    };

    let dir = job.out.join(job.task.model_name());
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut out = Writers::create(&dir)?;
    let mut layouts = Vec::new();
    for (k, source) in sources.iter().enumerate() {
        let (vocal, backing, separated) = match load(source) {
            Ok(x) => x,
            Err(e) => {
                say(format!("skipped {}: {e}", source.id));
                summary.skipped.push(format!("{}: {e}", source.id));
                continue;
            }
        };
        summary.sources += 1;
        if !layouts.contains(&source.layout) {
            layouts.push(source.layout);
        }
        let split = split_of(&source.group);
        let made = match examples(job.task, job, source, &vocal, &backing, separated.as_ref()) {
            Ok(x) => x,
            Err(e) => {
                summary.skipped.push(format!("{}: {e}", source.id));
                continue;
            }
        };
        summary.examples[split as usize] += out.source(source, split, &made, &backing)?;
        if (k + 1) % 25 == 0 || k + 1 == sources.len() {
            say(format!(
                "{} of {} sources, {} examples",
                k + 1,
                sources.len(),
                out.example
            ));
        }
    }
    out.flush()?;

    write_meta(&dir, job, &summary, &splits, &layouts)?;
    debug_assert_eq!(BLOCK_LEN, 2 * MELS * BLOCK_FRAMES);
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clip_names_tell_the_singer() {
        assert_eq!(mir1k_singer("abjones_1_01"), Some("abjones"));
        assert_eq!(mir1k_singer("amy_10_3"), Some("amy"));
        assert_eq!(mir1k_singer("vocals"), None);
        assert_eq!(mir1k_singer("a_b_01"), None);
        assert_eq!(mir1k_singer("x_1_2_3"), None);
    }

    #[test]
    fn a_random_eq_changes_four_bands_within_15_db() {
        let mut rng = Rng::new(3);
        let mut seen = [false; 9];
        for _ in 0..200 {
            let g = random_eq(&mut rng);
            assert_eq!(g.iter().filter(|x| **x != 0.0).count(), 4, "{g:?}");
            assert!(g.iter().all(|x| x.abs() <= 15.0));
            for (s, x) in seen.iter_mut().zip(g) {
                *s |= x != 0.0;
            }
        }
        assert!(seen.iter().all(|s| *s), "every band gets drawn");
    }

    #[test]
    fn splits_keep_groups_whole_and_hold_out_shares_of_the_data() {
        // two big singers and seventeen small ones, as in MIR-1K
        let mut groups: Vec<(String, usize)> = vec![("big1".into(), 175), ("big2".into(), 175)];
        groups.extend((0..17).map(|i| (format!("small{i}"), 2 + i % 5)));
        let total: usize = groups.iter().map(|g| g.1).sum();
        for seed in 0..20 {
            let s = assign_splits(&groups, seed, 0.15, 0.15);
            assert_eq!(s.len(), groups.len());
            let size = |x: Split| -> usize {
                s.iter()
                    .filter(|(_, y)| *y == x)
                    .map(|(n, _)| groups.iter().find(|g| &g.0 == n).unwrap().1)
                    .sum()
            };
            for x in [Split::Test, Split::Validation] {
                let share = size(x) as f64 / total as f64;
                assert!(share > 0.0 && share <= 0.15, "seed {seed}: {x:?} {share}");
            }
            // the same seed, the same split, whatever order the groups came in
            let mut reversed = groups.clone();
            reversed.reverse();
            let (mut a, mut b) = (s.clone(), assign_splits(&reversed, seed, 0.15, 0.15));
            a.sort();
            b.sort();
            assert_eq!(a, b);
        }
    }

    #[test]
    fn the_eq_is_the_chains_eq() {
        let rate = engine::analysis::ANALYSIS_RATE as f32;
        let vocal = engine::synth::vocal_line(rate, 2.0, 0.5, 4);
        let mut gains = [0.0; 9];
        gains[6] = 12.0; // 4 kHz
        let out = apply_eq(&vocal, &gains);
        // +12 dB at 4 kHz: louder overall, and flat where nothing was changed
        let energy = |x: &[f32]| x.iter().map(|v| (*v as f64).powi(2)).sum::<f64>();
        assert!(energy(&out) > energy(&vocal));
        let flat = apply_eq(&vocal, &[0.0; 9]);
        let diff = flat
            .iter()
            .zip(&vocal)
            .fold(0.0f32, |m, (a, b)| m.max((a - b).abs()));
        assert!(diff < 1e-5, "{diff}");
    }
}
