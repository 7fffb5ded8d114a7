//! `automix vad`: where a recording has a singing voice in it (seed 004's CNN).

use std::path::PathBuf;

use engine::separation::{SeparationModels, VadModel, downmix};
use engine::vad;

use crate::progress::Progress;
use crate::render::load;

/// `automix vad`: the stretches of a recording where a voice sings, and their share.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The recording (a mixed song or a vocal; WAV, FLAC, MP3 or Ogg)
    #[arg(required_unless_present = "compare_gates")]
    pub audio: Option<PathBuf>,
    /// Print JSON (stretches, share, and every frame's probability) instead of text
    #[arg(long)]
    pub json: bool,
    /// Compare the analysis's two vocal gates (loudness, VAD) with MIR-1K's frame labels on its
    /// test clips (every singer but abjones and amy): the vocal as recorded, and with its backing
    /// bleeding in at −20 and −10 dB. MIR1K: the folder with flac/ and labels/
    #[arg(long, value_name = "MIR1K", conflicts_with = "audio")]
    pub compare_gates: Option<PathBuf>,
    /// With --compare-gates: the first N test clips only
    #[arg(long, requires = "compare_gates")]
    pub limit: Option<usize>,
}

impl Args {
    pub fn run(self, warn: &mut dyn FnMut(String)) -> Result<(), String> {
        if let Some(dir) = &self.compare_gates {
            return crate::gate_study::run(dir, self.limit, self.json, warn);
        }
        let path = self.audio.expect("clap requires it");
        let audio = load(&path, "recording", warn)?;
        let model = vad_model()?;
        let mono = downmix(&audio.channels);
        drop(audio.channels);
        let bar = Progress::new("listening", 1000);
        let activity = vad::detect(model, &mono, audio.sample_rate, &mut |f| {
            bar.set((f * 1000.0) as u64)
        });
        bar.finish();
        let activity = activity.map_err(|e| format!("{}: {e}", path.display()))?;
        let seconds = mono.len() as f64 / audio.sample_rate as f64;
        if activity.probability.is_empty() {
            warn(format!(
                "{}: {seconds:.3} s is shorter than one 40 ms frame: nothing to detect",
                path.display()
            ));
        }
        let stretches = activity.stretches();
        if self.json {
            let v = serde_json::json!({
                "file": path.display().to_string(),
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
                path.display(),
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

/// The VAD the separation models hold, or what to do when there is none.
pub fn vad_model() -> Result<&'static VadModel, String> {
    let models = SeparationModels::shared();
    models.vad.as_ref().ok_or_else(|| {
        format!(
            "no usable VAD ({}); reinstall Vocal Automix or point VOCAL_AUTOMIX_MODELS at a folder holding vad.onnx",
            models.warnings.join("; ")
        )
    })
}

fn clock(s: f64) -> String {
    format!("{}:{:05.2}", (s / 60.0).floor() as u64, s % 60.0)
}
