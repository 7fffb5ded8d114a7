//! `automix vad`: where a recording has a singing voice in it (seed 004's CNN).

use std::path::PathBuf;

use engine::separation::{SeparationModels, downmix};
use engine::vad;

use crate::progress::Progress;
use crate::render::load;

/// `automix vad`: the stretches of a recording where a voice sings, and their share.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The recording (a mixed song or a vocal; WAV, FLAC, MP3 or Ogg)
    pub audio: PathBuf,
    /// Print JSON (stretches, share, and every frame's probability) instead of text
    #[arg(long)]
    pub json: bool,
}

impl Args {
    pub fn run(self, warn: &mut dyn FnMut(String)) -> Result<(), String> {
        let audio = load(&self.audio, "recording", warn)?;
        let models = SeparationModels::shared();
        let model = models.vad.as_ref().ok_or_else(|| {
            format!(
                "no usable VAD ({}); reinstall Vocal Automix or point VOCAL_AUTOMIX_MODELS at a folder holding vad.onnx",
                models.warnings.join("; ")
            )
        })?;
        let mono = downmix(&audio.channels);
        drop(audio.channels);
        let bar = Progress::new("listening", 1000);
        let activity = vad::detect(model, &mono, audio.sample_rate, &mut |f| {
            bar.set((f * 1000.0) as u64)
        });
        bar.finish();
        let activity = activity.map_err(|e| format!("{}: {e}", self.audio.display()))?;
        let seconds = mono.len() as f64 / audio.sample_rate as f64;
        if activity.probability.is_empty() {
            warn(format!(
                "{}: {seconds:.3} s is shorter than one 40 ms frame: nothing to detect",
                self.audio.display()
            ));
        }
        let stretches = activity.stretches();
        if self.json {
            let v = serde_json::json!({
                "file": self.audio.display().to_string(),
                "seconds": seconds,
                "threshold": activity.threshold,
                "hop_seconds": activity.hop_seconds,
                "window_seconds": activity.window_seconds,
                "frames": activity.probability.len(),
                "active_share": activity.active_share(),
                "stretches": stretches.iter().map(|(s, e)| serde_json::json!({"start": s, "end": e})).collect::<Vec<_>>(),
                "probability": activity.probability,
            });
            println!("{}", serde_json::to_string_pretty(&v).expect("plain JSON"));
        } else {
            println!(
                "{}: a voice sings in {:.1} % of {:.1} s ({} stretches)",
                self.audio.display(),
                100.0 * activity.active_share(),
                seconds,
                stretches.len()
            );
            for (s, e) in &stretches {
                println!("{} – {}", clock(*s), clock(*e));
            }
        }
        Ok(())
    }
}

fn clock(s: f64) -> String {
    format!("{}:{:05.2}", (s / 60.0).floor() as u64, s % 60.0)
}
