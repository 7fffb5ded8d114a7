//! `automix demo`: the product heard in one command, with nothing to supply.
//!
//! Synthesises (deterministically) a sung line and a drums–bass–chords backing, writes them,
//! lets the assistant decide every setting (the tempo it estimates from the backing), and writes
//! the processed vocal, the full mix, the suggestion and a readable report.

use std::path::{Path, PathBuf};

use engine::analysis::Engine;
use engine::synth::{backing_track, vocal_line};

use crate::analyze::{self, AnalyzeJob};
use crate::audio_io::{Audio, write_text, write_wav};
use crate::mix::{self, MixJob};

/// `automix demo`: hear the product with no input: synthesise a sung line and a backing, let the
/// assistant mix them, and write the files and a report.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Folder to write into (created if needed)
    #[arg(long, default_value = "automix-demo")]
    pub out_dir: PathBuf,
}

impl Args {
    pub fn run(
        self,
        warn: &mut dyn FnMut(String),
        say: &mut dyn FnMut(String),
    ) -> Result<(), String> {
        run(&self.out_dir, warn, say)
    }
}

const RATE: u32 = 44_100;
const SECONDS: f32 = 20.0;
const BPM: f32 = 96.0;

pub fn run(
    dir: &Path,
    warn: &mut dyn FnMut(String),
    say: &mut dyn FnMut(String),
) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let vocal = vocal_line(RATE as f32, SECONDS, 0.4, 2026);
    let [l, r] = backing_track(RATE as f32, SECONDS, BPM, 0.8, 2026);
    let path = |f: &str| dir.join(f);
    write_wav(
        &path("vocal_dry.wav"),
        &Audio {
            sample_rate: RATE,
            channels: vec![vocal],
        },
    )?;
    write_wav(
        &path("backing.wav"),
        &Audio {
            sample_rate: RATE,
            channels: vec![l, r],
        },
    )?;
    say(format!(
        "synthesised a {SECONDS} s sung line and a {BPM} BPM backing into {}",
        dir.display()
    ));
    let job = MixJob {
        analyze: AnalyzeJob {
            gate: Default::default(),
            reference: Default::default(),
            vocal: path("vocal_dry.wav"),
            backing: Some(path("backing.wav")),
            tempo_bpm: None,
            engine: Engine::Rules,
        },
        mix_out: path("mix.wav"),
        vocal_out: Some(path("vocal_mixed.wav")),
        suggestion_out: Some(path("suggestion.json")),
    };
    let s = mix::run(&job, warn, say)?;
    let report = analyze::table(&s, &job.analyze.vocal, job.analyze.backing.as_deref());
    write_text(&path("report.txt"), &report)?;
    println!("{report}");
    say(format!(
        "listen: {} (the processed vocal) and {} (the mix); why: {}",
        path("vocal_mixed.wav").display(),
        path("mix.wav").display(),
        path("report.txt").display()
    ));
    Ok(())
}
