//! `automix vad --compare-gates MIR1K`: the analysis's loudness gate and VAD gate against
//! MIR-1K's frame labels (docs/assistant.md has the table).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use engine::evaluation::gate_study::{self, Counts, Labels};
use engine::separation::{SeparationModels, VadModel};

use crate::audio_io;
use crate::progress::Progress;

/// The bleed conditions: the backing under the vocal at these levels (`None`: the vocal alone).
pub const BLEED_DB: [Option<f64>; 3] = [None, Some(-20.0), Some(-10.0)];
/// MIR-1K's labels: 40 ms frames every 20 ms.
const LABEL_HOP: f64 = 0.02;
const LABEL_WINDOW: f64 = 0.04;
/// The research split's training singers, left out (the VAD learnt from them).
const TRAINING_SINGERS: [&str; 2] = ["abjones", "amy"];

/// Per bleed condition, (loudness gate, VAD gate).
pub type Study = Vec<(Option<f64>, Counts, Counts)>;

fn test_clips(dir: &Path, limit: Option<usize>) -> Result<Vec<(PathBuf, PathBuf)>, String> {
    let flac = dir.join("flac");
    let mut clips: Vec<(PathBuf, PathBuf)> = std::fs::read_dir(&flac)
        .map_err(|e| {
            format!(
                "{}: {e} (MIR-1K's folder holds flac/ and labels/)",
                flac.display()
            )
        })?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "flac"))
        .filter(|p| {
            let stem = p
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            !TRAINING_SINGERS
                .iter()
                .any(|s| stem.starts_with(&format!("{s}_")))
        })
        .map(|p| {
            let stem = p
                .file_stem()
                .expect("a file")
                .to_string_lossy()
                .into_owned();
            (p, dir.join("labels").join(format!("{stem}.vocal")))
        })
        .collect();
    clips.sort();
    if let Some(n) = limit {
        clips.truncate(n);
    }
    if clips.is_empty() {
        return Err(format!("no MIR-1K test clips in {}", flac.display()));
    }
    Ok(clips)
}

/// The study over the test clips (in parallel).
pub fn study(dir: &Path, limit: Option<usize>) -> Result<(usize, Study), String> {
    let models = SeparationModels::shared();
    let model = models
        .vad
        .as_ref()
        .ok_or_else(|| format!("no usable VAD ({})", models.warnings.join("; ")))?;
    let clips = test_clips(dir, limit)?;
    let bar = Progress::new("clips", clips.len() as u64);
    let per_clip = crate::jobs::map(&clips, crate::jobs::available(), |_, (flac, labels)| {
        let counts = clip_counts(flac, labels, model);
        bar.inc(1);
        counts
    });
    bar.finish();
    let mut total: Study = BLEED_DB
        .iter()
        .map(|&b| (b, Counts::default(), Counts::default()))
        .collect();
    for counts in per_clip {
        for (row, (l, v)) in total.iter_mut().zip(counts?) {
            row.1.add(&l);
            row.2.add(&v);
        }
    }
    Ok((clips.len(), total))
}

/// One clip's counts for each bleed: the loudness gate's and the VAD's.
fn clip_counts(
    flac: &Path,
    labels: &Path,
    model: &VadModel,
) -> Result<Vec<(Counts, Counts)>, String> {
    let (audio, _) = audio_io::read(flac)?;
    let [backing, vocal] = &audio.channels[..] else {
        return Err(format!(
            "{}: MIR-1K clips are stereo (backing left, vocal right)",
            flac.display()
        ));
    };
    let text = std::fs::read_to_string(labels).map_err(|e| format!("{}: {e}", labels.display()))?;
    let values: Vec<f32> = text
        .split_whitespace()
        .map(|v| {
            v.parse::<f32>()
                .map_err(|_| format!("{}: `{v}` is not a label", labels.display()))
        })
        .collect::<Result<_, _>>()?;
    let labels = Labels {
        values: &values,
        hop: LABEL_HOP,
        window: LABEL_WINDOW,
    };
    BLEED_DB
        .iter()
        .map(|bleed| {
            let g = bleed.map_or(0.0, |db| 10f64.powf(db / 20.0)) as f32;
            let mixed: Vec<f32> = vocal.iter().zip(backing).map(|(v, b)| v + g * b).collect();
            gate_study::clip(&mixed, audio.sample_rate, &labels, model)
        })
        .collect()
}

pub fn table(clips: usize, s: &Study) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "MIR-1K test clips: {clips}; frames of 40 ms every 20 ms judged by the analysis frame nearest their centre"
    );
    let _ = writeln!(
        o,
        "| vocal | gate | precision | recall | F1 | frames kept |"
    );
    let _ = writeln!(o, "|---|---|---|---|---|---|");
    for (bleed, l, v) in s {
        let name = bleed.map_or("as recorded".to_string(), |db| {
            format!("backing bleeding in at {db:.0} dB")
        });
        for (gate, c) in [("loudness (−20 LU)", l), ("VAD", v)] {
            let _ = writeln!(
                o,
                "| {name} | {gate} | {:.3} | {:.3} | {:.3} | {} |",
                c.precision(),
                c.recall(),
                c.f1(),
                c.kept_sung + c.kept_unsung
            );
        }
    }
    o
}

pub fn run(
    dir: &Path,
    limit: Option<usize>,
    json: bool,
    _warn: &mut dyn FnMut(String),
) -> Result<(), String> {
    let (clips, s) = study(dir, limit)?;
    if json {
        let rows: Vec<serde_json::Value> = s
            .iter()
            .map(|(b, l, v)| {
                serde_json::json!({
                    "bleed_db": b,
                    "loudness": {"counts": l, "precision": l.precision(), "recall": l.recall(), "f1": l.f1()},
                    "vad": {"counts": v, "precision": v.precision(), "recall": v.recall(), "f1": v.f1()},
                })
            })
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({"clips": clips, "conditions": rows}))
                .expect("plain JSON")
        );
    } else {
        print!("{}", table(clips, &s));
    }
    Ok(())
}
