//! `automix reference --accuracy`: how well references are heard. Each song folder (its stems and
//! its mixture) is measured from its stems and from the separator's reading of its mixture; then
//! every song's vocal is mixed like every *other* song, and the result compared with that song's
//! true balance and loudness range, beside the same mix without a reference.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use engine::evaluation::Song;
use engine::evaluation::metrics::Stereo;
use engine::evaluation::reference_accuracy::{self, ReferenceAccuracy};
use engine::separation::SeparationModels;
use serde::Serialize;

use crate::reference::lu;

/// Song A's vocal mixed like song B.
#[derive(Clone, Debug, Serialize)]
pub struct Pair {
    pub song: String,
    pub like: String,
    /// B's professional balance and vocal loudness range (from its stems), LU.
    pub target_balance_lu: f64,
    pub target_loudness_range_lu: Option<f64>,
    /// A mixed with B's mixture as the reference, and without a reference.
    pub with_reference: reference_accuracy::Mixed,
    pub without: reference_accuracy::Mixed,
    /// The confidence B's balance was measured with.
    pub balance_confidence: f64,
}

impl Pair {
    fn balance_error(&self, m: &reference_accuracy::Mixed) -> Option<f64> {
        m.balance_lu.map(|b| (b - self.target_balance_lu).abs())
    }

    fn range_error(&self, m: &reference_accuracy::Mixed) -> Option<f64> {
        Some((m.loudness_range_lu? - self.target_loudness_range_lu?).abs())
    }
}

#[derive(Debug, Serialize)]
struct Report {
    songs: Vec<ReferenceAccuracy>,
    pairs: Vec<Pair>,
}

fn mixture_of(
    dir: &Path,
    song: &Song,
    warn: &mut dyn FnMut(String),
) -> Result<Option<Stereo>, String> {
    let Some(p) = crate::eval::stem_file(dir, "mixture") else {
        warn(format!(
            "{}: no mixture.*, the stems' sum is separated",
            dir.display()
        ));
        return Ok(None);
    };
    let a = crate::render::load(&p, "mixture", warn)?;
    let mut ch = a.channels.into_iter();
    Ok(match (ch.next(), ch.next()) {
        (Some(l), Some(r)) => Some(Stereo { left: l, right: r }),
        (Some(l), None) => Some(Stereo {
            right: l.clone(),
            left: l,
        }),
        _ => None,
    }
    .map(|mut s| {
        // cut to the stems' length, as the song was
        s.left.truncate(song.vocal.len());
        s.right.truncate(song.vocal.len());
        s
    }))
}

fn pairs(songs: &[Song], results: &[ReferenceAccuracy]) -> Result<Vec<Pair>, String> {
    let mut out = Vec::new();
    for (a, song) in songs.iter().enumerate() {
        // the song mixed without a reference, as its own evaluation did
        let without = results[a].default;
        for (b, like) in results.iter().enumerate() {
            if a == b {
                continue;
            }
            out.push(Pair {
                song: song.name.clone(),
                like: like.song.clone(),
                target_balance_lu: like.professional_balance_lu,
                target_loudness_range_lu: like.stems.vocal_loudness_range_lu,
                with_reference: reference_accuracy::mixed_like(song, &like.separated, &like.song)?,
                without,
                balance_confidence: like.separated.confidence_of(engine::params::Stage::Level),
            });
        }
    }
    Ok(out)
}

pub fn run(dirs: &[PathBuf], json: bool, warn: &mut dyn FnMut(String)) -> Result<(), String> {
    let found = crate::eval::find_songs(dirs)?;
    let models = SeparationModels::shared();
    models.warnings.iter().cloned().for_each(&mut *warn);
    let mut songs = Vec::new();
    let mut results = Vec::new();
    for dir in &found {
        let song = crate::eval::load_song(dir)?;
        let mixture = mixture_of(dir, &song, warn)?;
        results.push(reference_accuracy::evaluate(&song, mixture, models)?);
        songs.push(song);
    }
    let pairs = pairs(&songs, &results)?;
    if json {
        let report = Report {
            songs: results,
            pairs,
        };
        println!(
            "{}",
            serde_json::to_string_pretty(&report).expect("serialises")
        );
        return Ok(());
    }
    print!("{}{}", song_table(&results), pair_table(&pairs));
    Ok(())
}

fn song_table(results: &[ReferenceAccuracy]) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "| song | s | vocal − backing: stems / separated (Δ) | confidence (± LU) | vocal LRA: stems / separated (Δ) | tone: mean abs. Δ, 125 Hz–8 kHz | tail: stems / separated | mixed with its mixture as reference (Δ) | without a reference (Δ) |"
    );
    let _ = writeln!(o, "|---|---|---|---|---|---|---|---|---|");
    let d = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) => format!("{a:+.2} / {b:+.2} ({:+.2})", b - a),
        _ => format!("{} / {}", lu(a), lu(b)),
    };
    for r in results {
        let tone = r
            .stems
            .tone_relative_db
            .zip(r.separated.tone_relative_db)
            // the bands a vocal carries (63 Hz and 16 kHz say more about the separator's edges)
            .map(|(a, b)| (1..8).map(|i| (a[i] - b[i]).abs()).sum::<f64>() / 7.0);
        let pro = r.professional_balance_lu;
        let vs_pro =
            |v: Option<f64>| v.map_or("–".into(), |v| format!("{v:+.2} ({:+.2})", v - pro));
        let confidence = r.separated.confidence.as_ref().map_or("–".into(), |c| {
            format!("{:.0} % (± {:.1})", c.balance * 100.0, c.balance_error_lu)
        });
        let _ = writeln!(
            o,
            "| {} | {:.1} | {} | {confidence} | {} | {} | {} / {} | {} | {} |",
            r.song,
            r.seconds,
            d(
                r.stems.vocal_minus_backing_lu,
                r.separated.vocal_minus_backing_lu
            ),
            d(
                r.stems.vocal_loudness_range_lu,
                r.separated.vocal_loudness_range_lu
            ),
            tone.map_or("–".into(), |t| format!("{t:.2} dB")),
            lu(r.stems.reverb_tail_db),
            lu(r.separated.reverb_tail_db),
            vs_pro(r.matched.balance_lu),
            vs_pro(r.default.balance_lu),
        );
    }
    let errors: Vec<f64> = results
        .iter()
        .filter_map(|r| {
            Some((r.separated.vocal_minus_backing_lu? - r.stems.vocal_minus_backing_lu?).abs())
        })
        .collect();
    let _ = writeln!(
        o,
        "\nbalance read from the mixture: mean absolute error {:.2} LU, largest {:.2} LU over {} songs",
        mean(&errors),
        errors.iter().copied().fold(0.0, f64::max),
        errors.len()
    );
    o
}

fn mean(v: &[f64]) -> f64 {
    if v.is_empty() {
        f64::NAN
    } else {
        v.iter().sum::<f64>() / v.len() as f64
    }
}

fn pair_table(pairs: &[Pair]) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "\n| vocal of | mixed like | its balance | with the reference (Δ) | without (Δ) | confidence | its LRA | with (Δ) | without (Δ) |"
    );
    let _ = writeln!(o, "|---|---|---|---|---|---|---|---|---|");
    let d = |v: Option<f64>, t: Option<f64>| match (v, t) {
        (Some(v), Some(t)) => format!("{v:+.2} ({:+.2})", v - t),
        _ => "–".into(),
    };
    for p in pairs {
        let t = Some(p.target_balance_lu);
        let _ = writeln!(
            o,
            "| {} | {} | {:+.2} | {} | {} | {:.0} % | {} | {} | {} |",
            p.song,
            p.like,
            p.target_balance_lu,
            d(p.with_reference.balance_lu, t),
            d(p.without.balance_lu, t),
            p.balance_confidence * 100.0,
            lu(p.target_loudness_range_lu),
            d(
                p.with_reference.loudness_range_lu,
                p.target_loudness_range_lu
            ),
            d(p.without.loudness_range_lu, p.target_loudness_range_lu),
        );
    }
    let with: Vec<f64> = pairs
        .iter()
        .filter_map(|p| p.balance_error(&p.with_reference))
        .collect();
    let without: Vec<f64> = pairs
        .iter()
        .filter_map(|p| p.balance_error(&p.without))
        .collect();
    let closer = pairs
        .iter()
        .filter(|p| {
            p.balance_error(&p.with_reference)
                .zip(p.balance_error(&p.without))
                .is_some_and(|(w, o)| w < o)
        })
        .count();
    let range_with: Vec<f64> = pairs
        .iter()
        .filter_map(|p| p.range_error(&p.with_reference))
        .collect();
    let range_without: Vec<f64> = pairs
        .iter()
        .filter_map(|p| p.range_error(&p.without))
        .collect();
    let _ = writeln!(
        o,
        "\n{} pairs: balance within {:.2} LU of the reference's with it, {:.2} LU without; closer with it on {closer} ({:.0} %); loudness range within {:.2} LU with it, {:.2} LU without",
        pairs.len(),
        mean(&with),
        mean(&without),
        100.0 * closer as f64 / pairs.len().max(1) as f64,
        mean(&range_with),
        mean(&range_without),
    );
    o
}
