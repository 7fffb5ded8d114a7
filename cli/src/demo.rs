//! `automix demo`: the product heard in one command, with nothing to supply.
//!
//! Synthesises (deterministically) a sung line and a drums–bass–chords backing, writes them, and
//! renders the vocal through the chain with its default settings (the research's: dry/wet 11.5 %,
//! room size 14.54, fade-in 0.68 s, the reverb time its tempo rule gives at 120 BPM) into a
//! processed vocal and a full mix.

use std::path::Path;

use engine::PARAMS;
use engine::synth::{backing_track, vocal_line};

use crate::audio_io::{Audio, write_wav};
use crate::render::{self, RenderJob};

const RATE: u32 = 44_100;
const SECONDS: f32 = 12.0;

pub fn run(
    dir: &Path,
    warn: &mut dyn FnMut(String),
    say: &mut dyn FnMut(String),
) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let vocal = vocal_line(RATE as f32, SECONDS, 0.5, 2026);
    let [l, r] = backing_track(RATE as f32, SECONDS, 100.0, 0.7, 2026);
    let paths = [
        "vocal_dry.wav",
        "backing.wav",
        "params.json",
        "vocal_mixed.wav",
        "mix.wav",
    ]
    .map(|f| dir.join(f));
    write_wav(
        &paths[0],
        &Audio {
            sample_rate: RATE,
            channels: vec![vocal],
        },
    )?;
    write_wav(
        &paths[1],
        &Audio {
            sample_rate: RATE,
            channels: vec![l, r],
        },
    )?;
    let defaults: serde_json::Map<String, serde_json::Value> = PARAMS
        .iter()
        .map(|p| (p.key.to_string(), serde_json::Value::from(p.default as f64)))
        .collect();
    let text = serde_json::to_string_pretty(&defaults).expect("serialisable");
    std::fs::write(&paths[2], text)
        .map_err(|e| format!("cannot write {}: {e}", paths[2].display()))?;
    say(format!(
        "synthesised a {SECONDS} s sung line and backing into {}",
        dir.display()
    ));
    let job = RenderJob {
        vocal: paths[0].clone(),
        params: paths[2].clone(),
        out: paths[3].clone(),
        backing: Some(paths[1].clone()),
        mix_out: Some(paths[4].clone()),
        tail_seconds: 2.0,
    };
    render::run(&job, warn, say)?;
    say(format!(
        "listen: {} (the processed vocal) and {} (the mix)",
        paths[3].display(),
        paths[4].display()
    ));
    Ok(())
}
