//! `automix reference --accuracy`: how well references are heard. Each song folder (its stems and
//! its mixture) is measured from its stems and from the separator's reading of its mixture; then
//! every song's vocal is mixed like every *other* song, and the result compared with that song's
//! true balance, loudness range and tone (in the bands the reference's tone is followed in),
//! beside the same mix without a reference.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use engine::analysis::reference::{ReferenceMeasures, TONE_MIN_SHARE};
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
    /// B's vocal tone from its stems, dB, and the octave bands (0 = 63 Hz) the reference's tone
    /// is followed in: those B's separated vocal holds at least `TONE_MIN_SHARE` of.
    pub target_tone_db: Option<[f64; 9]>,
    pub tone_bands: Vec<usize>,
}

impl Pair {
    fn balance_error(&self, m: &reference_accuracy::Mixed) -> Option<f64> {
        m.balance_lu.map(|b| (b - self.target_balance_lu).abs())
    }

    fn range_error(&self, m: &reference_accuracy::Mixed) -> Option<f64> {
        Some((m.loudness_range_lu? - self.target_loudness_range_lu?).abs())
    }

    /// Mean |Δ| of the mix's tone from B's in the followed bands, dB (`None`: no band followed).
    fn tone_error(&self, m: &reference_accuracy::Mixed) -> Option<f64> {
        let (got, want) = (m.tone_relative_db?, self.target_tone_db?);
        if self.tone_bands.is_empty() {
            return None;
        }
        let sum: f64 = self
            .tone_bands
            .iter()
            .map(|&i| (got[i] - want[i]).abs())
            .sum();
        Some(sum / self.tone_bands.len() as f64)
    }
}

/// The bands a reference's tone is followed in (targets.rs keeps the rest at the built-in tone).
fn followed_bands(r: &ReferenceMeasures) -> Vec<usize> {
    r.tone_vocal_share
        .map(|s| (0..9).filter(|&i| s[i] >= TONE_MIN_SHARE).collect())
        .unwrap_or_default()
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
                target_tone_db: like.stems.tone_relative_db,
                tone_bands: followed_bands(&like.separated),
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
        "\n| vocal of | mixed like | its balance | with the reference (Δ) | without (Δ) | confidence | its LRA | with (Δ) | without (Δ) | tone bands followed | tone \\|Δ\\| with | without |"
    );
    let _ = writeln!(o, "|---|---|---|---|---|---|---|---|---|---|---|---|");
    let db = |v: Option<f64>| v.map_or("–".into(), |v| format!("{v:.2} dB"));
    let d = |v: Option<f64>, t: Option<f64>| match (v, t) {
        (Some(v), Some(t)) => format!("{v:+.2} ({:+.2})", v - t),
        _ => "–".into(),
    };
    for p in pairs {
        let t = Some(p.target_balance_lu);
        let _ = writeln!(
            o,
            "| {} | {} | {:+.2} | {} | {} | {:.0} % | {} | {} | {} | {} | {} | {} |",
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
            band_names(&p.tone_bands),
            db(p.tone_error(&p.with_reference)),
            db(p.tone_error(&p.without)),
        );
    }
    o + &pair_summary(pairs)
}

/// One measure's error over the pairs: (mean with the reference, mean without, pairs closer
/// with it, pairs scored).
fn compare(
    pairs: &[Pair],
    error: impl Fn(&Pair, &reference_accuracy::Mixed) -> Option<f64>,
) -> (f64, f64, usize, usize) {
    let both: Vec<(f64, f64)> = pairs
        .iter()
        .filter_map(|p| error(p, &p.with_reference).zip(error(p, &p.without)))
        .collect();
    let with: Vec<f64> = both.iter().map(|b| b.0).collect();
    let without: Vec<f64> = both.iter().map(|b| b.1).collect();
    let closer = both.iter().filter(|(w, o)| w < o).count();
    (mean(&with), mean(&without), closer, both.len())
}

fn pair_summary(pairs: &[Pair]) -> String {
    let (with, without, closer, n) = compare(pairs, Pair::balance_error);
    let (range_with, range_without, range_closer, _) = compare(pairs, Pair::range_error);
    let (tone_with, tone_without, tone_closer, tone_n) = compare(pairs, Pair::tone_error);
    let share = |k: usize, n: usize| 100.0 * k as f64 / n.max(1) as f64;
    format!(
        "\n{n} pairs: balance within {with:.2} LU of the reference's with it, {without:.2} LU without; closer with it on {closer} ({:.0} %); \
         loudness range within {range_with:.2} LU with it, {range_without:.2} LU without, closer on {range_closer}; \
         tone within {tone_with:.2} dB with it, {tone_without:.2} dB without in the bands followed, closer on {tone_closer} of {tone_n} ({:.0} %)\n",
        share(closer, n),
        share(tone_closer, tone_n),
    )
}

fn band_names(bands: &[usize]) -> String {
    const NAMES: [&str; 9] = ["63", "125", "250", "500", "1k", "2k", "4k", "8k", "16k"];
    if bands.is_empty() {
        return "none".into();
    }
    bands
        .iter()
        .map(|&i| NAMES[i])
        .collect::<Vec<_>>()
        .join(" ")
}
