//! `automix learn DIR -o PROFILE.json`: every song in a folder separated and measured as a
//! reference (in parallel; each song's measures cached as `--reference` caches them, so a second
//! run, or one after an interruption, measures only what is new), then summarised as a profile
//! that `--profile` aims at: the seed's data method — separating published songs — run on the
//! user's own records.

use std::path::{Path, PathBuf};

use engine::analysis::library_profile::{LibraryProfile, Skipped, Song};
use engine::analysis::reference::LOW_CONFIDENCE;
use engine::params::Stage;
use indicatif::MultiProgress;

use crate::audio_io;
use crate::progress::Progress;
use crate::reference::{Cache, describe};

/// `automix learn`: measure every song in a folder and write a profile to mix like them.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// A folder of mixed songs (searched three levels down; WAV, FLAC, MP3, Ogg)
    pub dir: PathBuf,
    /// Where to write the profile (JSON)
    #[arg(short, long)]
    pub out: PathBuf,
    /// Songs measured at once (default: one per core)
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
    pub jobs: Option<u16>,
}

impl Args {
    pub fn run(
        self,
        warn: &mut dyn FnMut(String),
        say: &mut dyn FnMut(String),
    ) -> Result<(), String> {
        run(&self.dir, &self.out, self.jobs.map(usize::from), warn, say).map(|p| {
            print!(
                "{} songs measured, {} skipped; the profile (medians) aims at:\n{}",
                p.songs,
                p.skipped.len(),
                describe(&p.median)
            );
        })
    }
}

/// The audio files under `dir`, sorted, at most three levels down.
pub fn find_songs(dir: &Path) -> Result<Vec<PathBuf>, String> {
    fn walk(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) -> Result<(), String> {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(|e| format!("cannot read the folder {}: {e}", dir.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        for p in entries {
            if p.is_dir() && depth > 0 {
                walk(&p, depth - 1, out)?;
            } else if p.is_file() && audio_io::is_audio_file_name(&p) {
                out.push(p);
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    walk(dir, 3, &mut out)?;
    if out.is_empty() {
        return Err(format!(
            "no songs in {} (WAV, FLAC, MP3 or Ogg files)",
            dir.display()
        ));
    }
    Ok(out)
}

/// One song measured (from the cache when it was before), with what the user should hear.
fn measure_one(
    cache: &Cache,
    path: &Path,
    multi: &MultiProgress,
) -> (Result<Song, Skipped>, Vec<String>) {
    let file = path.display().to_string();
    let bar = Progress::in_multi(multi, "measuring", 1000);
    bar.set_message(
        path.file_name()
            .map_or(file.clone(), |n| n.to_string_lossy().into()),
    );
    let mut notes = Vec::new();
    // a panic on one song must not take the others down
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        cache.measured_with(path, &mut |w| notes.push(w), &mut |f| {
            bar.set((f * 1000.0) as u64)
        })
    }))
    .unwrap_or_else(|_| Err("internal error (please report it)".into()));
    bar.finish();
    let outcome = match result {
        Ok(Ok(m)) => {
            notes.extend(m.notes);
            Ok(Song {
                file: file.clone(),
                measures: m.measures,
            })
        }
        Ok(Err(why)) | Err(why) => Err(Skipped { file, why }),
    };
    (outcome, notes)
}

pub fn run(
    dir: &Path,
    out: &Path,
    jobs: Option<usize>,
    warn: &mut dyn FnMut(String),
    say: &mut dyn FnMut(String),
) -> Result<LibraryProfile, String> {
    crate::same_file::check(
        &[crate::same_file::Named::new("the folder", dir)],
        &[crate::same_file::Named::new("the profile (-o)", out)],
    )?;
    let songs = find_songs(dir)?;
    let cache = Cache::user();
    let reused = songs.iter().filter(|s| cache.is_cached(s)).count();
    let threads = jobs
        .unwrap_or_else(crate::jobs::available)
        .clamp(1, songs.len());
    say(format!(
        "{} songs in {} ({reused} measured before, reused), {threads} at a time",
        songs.len(),
        dir.display()
    ));
    let multi = MultiProgress::new();
    let overall = Progress::in_multi(&multi, "songs", songs.len() as u64);
    let outcomes = crate::jobs::map(&songs, threads, |_, path| {
        let outcome = measure_one(&cache, path, &multi);
        overall.inc(1);
        outcome
    });
    overall.finish();
    let mut measured = Vec::new();
    let mut skipped = Vec::new();
    for (path, (outcome, notes)) in songs.iter().zip(outcomes) {
        for n in notes {
            warn(format!("{}: {n}", path.display()));
        }
        match outcome {
            Ok(s) => measured.push(s),
            Err(s) => {
                warn(format!("skipped {}: {}", s.file, s.why));
                skipped.push(s);
            }
        }
    }
    let profile = LibraryProfile::new(measured, skipped).ok_or_else(|| {
        format!(
            "none of the {} songs in {} could be measured (see the warnings); the profile was not written",
            songs.len(),
            dir.display()
        )
    })?;
    for s in &profile.measured {
        say(song_line(s));
    }
    let confident = profile
        .measured
        .iter()
        .filter(|s| s.measures.confidence_of(Stage::Level) >= LOW_CONFIDENCE)
        .count();
    say(format!(
        "the level target: vocal {} LU against the backing, the median of the {confident} of {} songs measured with confidence{}",
        crate::reference::lu(profile.median.vocal_minus_backing_lu),
        profile.measured.len(),
        if confident == 0 {
            " (none was: every song's, in doubt)"
        } else {
            ""
        }
    ));
    audio_io::write_text(out, &profile.to_json())?;
    say(format!("profile → {}", out.display()));
    Ok(profile)
}

/// One song of a profile as a person reads it: its balance, loudness range and their confidence.
fn song_line(s: &Song) -> String {
    let m = &s.measures;
    let c = |stage: Stage| match &m.confidence {
        Some(_) => format!(" ({:.0} %)", m.confidence_of(stage) * 100.0),
        None => String::new(),
    };
    format!(
        "  {}: vocal {} LU against its backing{}, loudness range {} LU{}",
        s.file,
        crate::reference::lu(m.vocal_minus_backing_lu),
        c(Stage::Level),
        crate::reference::lu(m.vocal_loudness_range_lu),
        c(Stage::Compressor),
    )
}
