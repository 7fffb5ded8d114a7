//! `automix mix`: analyze, then render the processed vocal and the full mix with the suggestion.

use std::path::PathBuf;

use engine::ParamId;
use engine::analysis::MixSuggestion;

use crate::analyze::{self, AnalyzeJob};
use crate::audio_io;
use crate::audio_io::Audio;
use crate::cli_args::AssistantArgs;
use crate::progress::Progress;
use crate::reference::ReferenceArgs;
use crate::render::{self, RenderJob, Rendered};
use crate::same_file::{self, Named};

/// `automix mix`: analyze, then render the processed vocal and the full mix with the suggestion.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The vocal (WAV, FLAC, MP3 or Ogg; mono or stereo; any rate)
    #[arg(long)]
    pub vocal: PathBuf,
    /// The backing track
    #[arg(long)]
    pub backing: PathBuf,
    /// Where to write the full mix (stereo, 32-bit float WAV)
    #[arg(short, long)]
    pub out: PathBuf,
    /// Also write the processed vocal alone
    #[arg(long)]
    pub vocal_out: Option<PathBuf>,
    /// Also write the suggestion as JSON
    #[arg(long)]
    pub suggestion_out: Option<PathBuf>,
    #[command(flatten)]
    pub assistant: AssistantArgs,
    #[command(flatten)]
    pub reference: ReferenceArgs,
}

impl Args {
    /// Mixes, then prints the suggestion as `automix analyze` does.
    pub fn run(
        self,
        warn: &mut dyn FnMut(String),
        say: &mut dyn FnMut(String),
    ) -> Result<(), String> {
        let job = MixJob {
            analyze: AnalyzeJob {
                vocal: self.vocal,
                backing: Some(self.backing),
                tempo_bpm: self.assistant.tempo,
                engine: self.assistant.engine.0,
                gate: self.assistant.gate.kind(),
                reference: self.reference.prepare(warn)?,
            },
            mix_out: self.out,
            vocal_out: self.vocal_out,
            suggestion_out: self.suggestion_out,
        };
        let s = run(&job, warn, say)?;
        print!(
            "{}",
            analyze::table(&s, &job.analyze.vocal, job.analyze.backing.as_deref())
        );
        Ok(())
    }
}

pub struct MixJob {
    pub analyze: AnalyzeJob,
    pub mix_out: PathBuf,
    pub vocal_out: Option<PathBuf>,
    pub suggestion_out: Option<PathBuf>,
}

/// Seconds of reverb tail rendered after the vocal: the reverb time, so the last note rings out.
pub fn tail_seconds(s: &MixSuggestion) -> f32 {
    if s.params.on(ParamId::ReverbBypass) {
        0.0
    } else {
        s.params.get(ParamId::ReverbTime).ceil()
    }
}

pub fn run(
    job: &MixJob,
    warn: &mut dyn FnMut(String),
    say: &mut dyn FnMut(String),
) -> Result<MixSuggestion, String> {
    let backing = job
        .analyze
        .backing
        .clone()
        .ok_or("a mix needs the backing track (--backing)")?;
    let mut outputs = vec![Named::new("the mix (-o)", &job.mix_out)];
    if let Some(p) = &job.vocal_out {
        outputs.push(Named::new("the processed vocal (--vocal-out)", p));
    }
    if let Some(p) = &job.suggestion_out {
        outputs.push(Named::new("the suggestion (--suggestion-out)", p));
    }
    same_file::check(
        &[
            Named::new("the vocal (--vocal)", &job.analyze.vocal),
            Named::new("the backing (--backing)", &backing),
        ],
        &outputs,
    )?;
    // decoded once, for the analysis (as decoded: it reports NaN itself) and the render
    let vocal_path = &job.analyze.vocal;
    let vocal = render::read(vocal_path, "vocal", warn).map_err(|e| format!("vocal: {e}"))?;
    let backing_audio =
        render::read(&backing, "backing", warn).map_err(|e| format!("backing: {e}"))?;
    let (s, vocal, backing_audio) = suggest_decoded(
        &job.analyze,
        (vocal, &vocal_path.display().to_string()),
        (backing_audio, &backing.display().to_string()),
        warn,
    )?;
    if let Some(path) = &job.suggestion_out {
        audio_io::write_text(path, &s.to_json())?;
        say(format!("suggestion → {}", path.display()));
    }
    render::render_decoded(
        &RenderJob {
            vocal: job.analyze.vocal.clone(),
            params: s.params.clone(),
            out: job.vocal_out.clone(),
            backing: Some(backing),
            mix_out: Some(job.mix_out.clone()),
            tail_seconds: tail_seconds(&s),
        },
        vocal,
        Some(backing_audio),
        warn,
        say,
    )?;
    Ok(s)
}

/// The analysis of a decoded pair (as decoded: it reports NaN itself), then both made safe to
/// render (NaN silenced, with a word); the suggestion's warnings passed on.
fn suggest_decoded(
    job: &AnalyzeJob,
    (vocal, vocal_name): (Audio, &str),
    (backing, backing_name): (Audio, &str),
    warn: &mut dyn FnMut(String),
) -> Result<(MixSuggestion, Audio, Audio), String> {
    let bar = Progress::new("analyzing", 100);
    bar.set(10);
    let s = analyze::suggest_tracks(
        job,
        &analyze::track_of(&vocal).map_err(|e| format!("vocal: {e}"))?,
        Some(&analyze::track_of(&backing).map_err(|e| format!("backing: {e}"))?),
        &bar,
        warn,
    )?;
    let vocal = render::sanitised_named(vocal, vocal_name, "vocal", warn);
    let backing = render::sanitised_named(backing, backing_name, "backing", warn);
    for w in &s.warnings {
        warn(w.message.clone());
    }
    Ok((s, vocal, backing))
}

/// `mix` without files: the suggestion for a decoded pair, the processed vocal and the mix
/// (`job`'s paths are not read; its settings are). Each input comes with the name its messages
/// use.
pub fn mix_audio(
    job: &AnalyzeJob,
    vocal: (Audio, &str),
    backing: (Audio, &str),
    warn: &mut dyn FnMut(String),
    say: &mut dyn FnMut(String),
) -> Result<(MixSuggestion, Rendered), String> {
    let vocal_name = vocal.1.to_string();
    let backing_name = backing.1.to_string();
    let (s, vocal, backing) = suggest_decoded(job, vocal, backing, warn)?;
    let rendered = render::render_audio(
        &s.params,
        tail_seconds(&s),
        (vocal, &vocal_name),
        Some((backing, backing_name)),
        warn,
        say,
    )?;
    Ok((s, rendered))
}
