//! `automix analyze`: decode a vocal and its backing, run the assistant, print its suggestion.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use engine::ParamId;
use engine::analysis::suggestion::{Decider, GateKind, SearchOutcome, TempoSource, Warning};
use engine::analysis::{
    AnalysisOptions, Engine, MixSuggestion, Step, Track, TrackCapture, analyze,
};

use crate::audio_io::{self, Audio};
use crate::cli_args::AssistantArgs;
use crate::progress::Progress;
use crate::reference::{Prepared, ReferenceArgs};

/// `automix analyze`: analyze a vocal against its backing track and print the suggested mix (every
/// parameter, and why).
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The vocal (WAV, FLAC, MP3 or Ogg; mono or stereo; any rate)
    #[arg(long)]
    pub vocal: PathBuf,
    /// The backing track; without it the EQ and level stay as they are
    #[arg(long)]
    pub backing: Option<PathBuf>,
    #[command(flatten)]
    pub assistant: AssistantArgs,
    #[command(flatten)]
    pub reference: ReferenceArgs,
    /// Print the suggestion as JSON
    #[arg(long)]
    pub json: bool,
}

impl Args {
    pub fn run(self, warn: &mut dyn FnMut(String)) -> Result<(), String> {
        let job = AnalyzeJob {
            vocal: self.vocal,
            backing: self.backing,
            tempo_bpm: self.assistant.tempo,
            engine: self.assistant.engine.0,
            gate: self.assistant.gate.kind(),
            reference: self.reference.prepare(warn)?,
        };
        run(&job, self.json, warn)
    }
}

/// What to analyse.
#[derive(Clone, Debug)]
pub struct AnalyzeJob {
    pub vocal: PathBuf,
    pub backing: Option<PathBuf>,
    pub tempo_bpm: Option<f64>,
    pub engine: Engine,
    /// Which of the vocal's frames the analysis reads.
    pub gate: GateKind,
    /// The reference's targets and the locked stages (`Prepared::default()`: none).
    pub reference: Prepared,
}

impl AnalyzeJob {
    /// What the analysis is asked for, as the plug-in builds it too.
    pub fn options(&self) -> AnalysisOptions<'_> {
        AnalysisOptions::new(
            self.engine,
            self.gate,
            self.tempo_bpm,
            self.reference.targets.as_ref(),
            self.reference.keep.as_ref(),
        )
    }
}

/// Decodes one input straight into an analysis track, passing on what the decoder noticed.
pub fn load_track(path: &Path, what: &str, warn: &mut dyn FnMut(String)) -> Result<Track, String> {
    let (track, notes) = audio_io::read_track(path)?;
    notes.tell(what, path, track.info.seconds, warn);
    Ok(track)
}

/// Decodes both inputs and runs the assistant.
pub fn suggest(job: &AnalyzeJob, warn: &mut dyn FnMut(String)) -> Result<MixSuggestion, String> {
    let bar = Progress::new("analyzing", 100);
    bar.set_message("decoding the vocal");
    let vocal = load_track(&job.vocal, "vocal", warn).map_err(|e| format!("vocal: {e}"))?;
    bar.set(5);
    let backing = match &job.backing {
        Some(p) => {
            bar.set_message("decoding the backing");
            Some(load_track(p, "backing", warn).map_err(|e| format!("backing: {e}"))?)
        }
        None => None,
    };
    bar.set(10);
    suggest_tracks(job, &vocal, backing.as_ref(), &bar, warn)
}

/// An input decoded whole (for `mix`, which renders it after) as an analysis track.
pub fn track_of(audio: &Audio) -> Result<Track, engine::analysis::track::TrackError> {
    let channels: Vec<&[f32]> = audio.channels.iter().map(Vec::as_slice).collect();
    TrackCapture::of_channels(audio.sample_rate, &channels)
}

/// Runs the assistant on inputs already decoded; `bar` shows its progress from 10 % on.
pub fn suggest_tracks(
    job: &AnalyzeJob,
    vocal: &Track,
    backing: Option<&Track>,
    bar: &Progress,
    warn: &mut dyn FnMut(String),
) -> Result<MixSuggestion, String> {
    let options = job.options();
    options.notes.iter().cloned().for_each(&mut *warn);
    let result = analyze(
        &options.input(vocal, backing),
        &mut |step: Step, fraction| {
            bar.set_message(step.label());
            bar.set(10 + (90.0 * fraction) as u64);
            true
        },
    );
    bar.finish();
    let result = result.map(|mut s| {
        for n in &job.reference.notes {
            s.warnings.push(Warning::new("reference", n.clone()));
        }
        s
    });
    result.map_err(|e| {
        format!(
            "{}: {e}",
            match e {
                engine::analysis::AnalysisError::Cancelled => "analysis",
                engine::analysis::AnalysisError::BackingBandLimited { .. } => "backing",
                _ => "vocal",
            }
        )
    })
}

fn value(s: &MixSuggestion, id: ParamId) -> String {
    id.spec().format(s.params.get(id))
}

/// The suggestion as a table a person reads.
pub fn table(s: &MixSuggestion, vocal: &Path, backing: Option<&Path>) -> String {
    let mut o = String::new();
    header(&mut o, s, vocal, backing);
    let _ = writeln!(o);
    eq_section(&mut o, s);
    compressor_section(&mut o, s);
    let r = &s.reverb;
    let _ = writeln!(
        o,
        "Reverb      {}, dry/wet {}, room {}, fade-in {}",
        value(s, ParamId::ReverbTime),
        value(s, ParamId::ReverbDryWet),
        value(s, ParamId::ReverbRoomSize),
        value(s, ParamId::ReverbFadeIn),
    );
    let tempo = match r.tempo_source {
        TempoSource::Caller => format!("{:.1} BPM (given)", r.tempo_bpm),
        TempoSource::Estimated => format!(
            "{:.1} BPM (estimated from the backing, confidence {:.2})",
            r.tempo_bpm,
            r.tempo_confidence.unwrap_or(0.0)
        ),
        TempoSource::Assumed => format!("{:.0} BPM (assumed)", r.tempo_bpm),
    };
    let _ = writeln!(o, "            tempo {tempo}; {}", r.reason);
    let _ = writeln!(
        o,
        "Level       {}: {}",
        value(s, ParamId::LevelGain),
        s.level.reason
    );
    if !s.warnings.is_empty() {
        let _ = writeln!(o);
        for w in &s.warnings {
            let _ = writeln!(o, "warning: {}", w.message);
        }
    }
    o
}

/// The engine, the inputs, the gate, the reference and the locks.
fn header(o: &mut String, s: &MixSuggestion, vocal: &Path, backing: Option<&Path>) {
    let input =
        |o: &mut String, what: &str, path: &Path, r: &engine::analysis::suggestion::InputReport| {
            let _ = writeln!(
                o,
                "{what:<8} {}  {:.1} s, {} Hz, {}; {}, LRA {}, peak {}",
                path.display(),
                r.seconds,
                r.sample_rate,
                match r.channels {
                    1 => "mono".to_string(),
                    2 => "stereo".to_string(),
                    n => format!("{n} channels"),
                },
                r.integrated_lufs
                    .map_or("silent".to_string(), |l| format!("{l:.1} LUFS")),
                r.loudness_range_lu
                    .map_or("–".to_string(), |l| format!("{l:.1} LU")),
                r.peak_dbfs
                    .map_or("–".to_string(), |p| format!("{p:.1} dBFS")),
            );
        };
    let _ = writeln!(o, "Vocal Automix suggestion ({} engine)", s.engine);
    if let Some(c) = &s.cnn {
        let who = |d: Decider| match d {
            Decider::Rules => "rules",
            Decider::Cnn => "CNN",
        };
        let _ = writeln!(
            o,
            "decided  EQ by {}, compressor by {}, reverb by {}, level by {} (CNNs on {}, models {})",
            who(s.stages.eq),
            who(s.stages.compressor),
            who(s.stages.reverb),
            who(s.stages.level),
            c.backend,
            c.models
        );
    }
    input(o, "vocal", vocal, &s.inputs.vocal);
    if let (Some(path), Some(r)) = (backing, &s.inputs.backing) {
        input(o, "backing", path, r);
    }
    let _ = writeln!(
        o,
        "gate     {} of {} frames of 46 ms kept ({}; threshold {})",
        s.gate.frames_kept,
        s.gate.frames_total,
        s.gate.rule,
        s.gate
            .threshold_lufs
            .map_or("–".to_string(), |t| format!("{t:.1} LUFS")),
    );
    if let Some(r) = &s.reference {
        reference_line(o, r);
    }
    if !s.locked.is_empty() {
        let _ = writeln!(o, "locked   {} (kept as set)", s.locked.join(", "));
    }
}

/// What the reference measured and how far each stage follows it.
fn reference_line(o: &mut String, r: &engine::analysis::suggestion::ReferenceReport) {
    let _ = writeln!(
        o,
        "reference {}: vocal {} LU against its backing{}, loudness range {} LU, tail {} dB; amounts {}",
        r.source,
        r.measures
            .vocal_minus_backing_lu
            .map_or("–".into(), |v| format!("{v:+.1}")),
        r.measures
            .confidence
            .as_ref()
            .map_or(String::new(), |c| format!(
                " (± {:.1} LU, confidence {:.0} %)",
                c.balance_error_lu,
                c.balance * 100.0
            )),
        r.measures
            .vocal_loudness_range_lu
            .map_or("–".into(), |v| format!("{v:.1}")),
        r.measures
            .reverb_tail_db
            .map_or("–".into(), |v| format!("{v:.1}")),
        r.amounts
            .iter()
            .map(|(k, a)| format!("{k} {:.0} %", a * 100.0))
            .collect::<Vec<_>>()
            .join(", ")
    );
}

/// The EQ's reason and its bands.
fn eq_section(o: &mut String, s: &MixSuggestion) {
    let _ = writeln!(o, "EQ          {}", s.eq.reason);
    if !s.eq.bands.is_empty() {
        let _ = writeln!(
            o,
            "            {:>7} {:>9} {:>9} {:>10} {:>8}",
            "band", "vocal dB", "backing", "covered by", "gain"
        );
        for b in &s.eq.bands {
            let mark = |e: bool| if e { "*" } else { " " };
            let _ = writeln!(
                o,
                "            {:>7} {:>8.1}{} {:>8}{} {:>10} {:>8}",
                engine::analysis::masking_eq::hz_text(b.hz),
                b.vocal_db,
                mark(b.vocal_essential),
                b.backing_db.map_or("–".into(), |v| format!("{v:.1}")),
                mark(b.backing_essential),
                b.backing_over_vocal_db
                    .map_or("–".into(), |v| format!("{v:+.1} dB")),
                if b.gain_db == 0.0 {
                    "·".to_string()
                } else {
                    format!("{:+.1} dB", b.gain_db)
                },
            );
        }
        let _ = writeln!(
            o,
            "            (* essential; \"covered by\": backing over vocal at the target level)"
        );
    }
}

/// The compressor's setting, reason and the search's steps.
fn compressor_section(o: &mut String, s: &MixSuggestion) {
    let c = &s.compression;
    let _ = writeln!(
        o,
        "Compressor  {}, {}, attack {}, release {}, knee {}",
        value(s, ParamId::CompThreshold),
        value(s, ParamId::CompRatio),
        value(s, ParamId::CompAttack),
        value(s, ParamId::CompRelease),
        value(s, ParamId::CompKnee),
    );
    let _ = writeln!(o, "            {}", c.reason);
    if c.outcome != SearchOutcome::TooShort && !c.steps.is_empty() {
        let steps: Vec<String> = c
            .steps
            .iter()
            .map(|st| {
                format!(
                    "{:.0} dB {:.1}:1 → {}",
                    st.threshold_db,
                    st.ratio,
                    st.loudness_range_lu
                        .map_or("–".into(), |l| format!("{l:.2} LU"))
                )
            })
            .collect();
        let _ = writeln!(
            o,
            "            measured ({} passes): {}",
            c.passes,
            steps.join(", ")
        );
    }
}

pub fn run(job: &AnalyzeJob, json: bool, warn: &mut dyn FnMut(String)) -> Result<(), String> {
    let s = suggest(job, warn)?;
    if json {
        // the JSON carries them too; the terminal shows them whatever reads stdout
        for w in &s.warnings {
            warn(w.message.clone());
        }
        println!("{}", s.to_json());
    } else {
        print!("{}", table(&s, &job.vocal, job.backing.as_deref()));
    }
    Ok(())
}
