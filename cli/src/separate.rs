//! `automix separate`: a song's vocal and accompaniment (the U-Net separator, informed by the
//! VAD), at the song's rate and channel count, summing back to it.

use std::path::{Path, PathBuf};

use engine::separation::{self, SeparationModels};

use crate::audio_io::{self, Audio};
use crate::progress::Progress;
use crate::render::load;
use crate::same_file::{self, Named};

/// `automix separate`: split a mixed song into its vocal and its accompaniment.
#[derive(clap::Args, Debug)]
#[command(group = clap::ArgGroup::new("outputs").required(true).args(["out_dir", "vocal_out"]))]
pub struct Args {
    /// The mixed song (WAV, FLAC, MP3 or Ogg; any channel count, 1 kHz – 768 kHz)
    pub mix: PathBuf,
    /// A folder for NAME_vocal.wav and NAME_backing.wav (NAME: the song's file name; the pair
    /// `automix mix` and `batch` read)
    #[arg(short = 'o', long = "out-dir", conflicts_with_all = ["vocal_out", "backing_out"])]
    pub out_dir: Option<PathBuf>,
    /// Where to write the vocal (32-bit float WAV)
    #[arg(long, requires = "backing_out")]
    pub vocal_out: Option<PathBuf>,
    /// Where to write the accompaniment (32-bit float WAV)
    #[arg(long, requires = "vocal_out")]
    pub backing_out: Option<PathBuf>,
}

impl Args {
    pub fn run(
        self,
        warn: &mut dyn FnMut(String),
        say: &mut dyn FnMut(String),
    ) -> Result<(), String> {
        let (vocal_out, backing_out) = match (self.out_dir, self.vocal_out, self.backing_out) {
            (Some(dir), None, None) => {
                if !dir.is_dir() {
                    std::fs::create_dir_all(&dir)
                        .map_err(|e| format!("cannot make {}: {e}", dir.display()))?;
                }
                let stem = self
                    .mix
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "song".into());
                (
                    dir.join(format!("{stem}_vocal.wav")),
                    dir.join(format!("{stem}_backing.wav")),
                )
            }
            (None, Some(v), Some(b)) => (v, b),
            _ => return Err("give -o DIR, or --vocal-out and --backing-out".into()),
        };
        run(&self.mix, &vocal_out, &backing_out, warn, say)
    }
}

pub fn run(
    mix: &Path,
    vocal_out: &Path,
    backing_out: &Path,
    warn: &mut dyn FnMut(String),
    say: &mut dyn FnMut(String),
) -> Result<(), String> {
    same_file::check(
        &[Named::new("the song", mix)],
        &[
            Named::new("the vocal (--vocal-out)", vocal_out),
            Named::new("the accompaniment (--backing-out)", backing_out),
        ],
    )?;
    let audio = load(mix, "song", warn)?;
    if audio.frames() == 0 {
        return Err(format!("{}: no audio in the file", mix.display()));
    }
    let models = SeparationModels::shared();
    models.warnings.iter().cloned().for_each(&mut *warn);
    let rate = audio.sample_rate;
    let seconds = audio.seconds();
    let bar = Progress::new("separating", 1000);
    let separated = separation::separate(models, audio.channels, rate, &mut |stage, done| {
        bar.set_message(stage);
        let base = match stage {
            "vocal activity" => 0.0,
            "spectrum" => 0.1,
            "separating" => 0.15,
            _ => 0.85,
        };
        let span = match stage {
            "vocal activity" => 0.1,
            "spectrum" => 0.05,
            "separating" => 0.7,
            _ => 0.15,
        };
        bar.set(((base + span * done.clamp(0.0, 1.0)) * 1000.0) as u64);
    });
    bar.finish();
    let separated = separated.map_err(|e| format!("{}: {e}", mix.display()))?;
    separated.notes.iter().cloned().for_each(&mut *warn);
    audio_io::write_wav(
        vocal_out,
        &Audio {
            sample_rate: rate,
            channels: separated.vocal,
        },
    )?;
    audio_io::write_wav(
        backing_out,
        &Audio {
            sample_rate: rate,
            channels: separated.accompaniment,
        },
    )?;
    let activity = separated
        .activity
        .map(|a| {
            format!(
                "; the voice sings in {:.0} % of it",
                100.0 * a.active_share()
            )
        })
        .unwrap_or_default();
    say(format!(
        "separated {:.1} s of {}{activity}\nvocal: {}\naccompaniment: {}",
        seconds,
        mix.display(),
        vocal_out.display(),
        backing_out.display()
    ));
    Ok(())
}
