//! `automix render`: a vocal through the chain with given parameters, optionally mixed with its
//! backing track.

use std::path::PathBuf;

use engine::dsp::chain::{MAX_SAMPLE_RATE, MIN_SAMPLE_RATE};
use engine::resample::resample;
use engine::{MixParams, VocalChain};

use crate::audio_io::{self, Audio};
use crate::param_file;
use crate::progress::Progress;
use crate::same_file::{self, Named};

/// The rates the chain is built and tested for; files outside are converted.
const LOWEST_RATE: u32 = 22_050;
const HIGHEST_RATE: u32 = 192_000;
/// Blocks the offline render feeds the chain (any size gives the same result).
const BLOCK: usize = 4096;

/// `automix render`: a vocal through EQ → compressor → reverb → level with the parameters given.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The vocal (WAV, FLAC, MP3 or Ogg; mono or stereo)
    #[arg(long)]
    pub vocal: PathBuf,
    /// Parameter file: a JSON object of keys from `automix params` (missing keys take
    /// defaults), or a suggestion written by `analyze --json` / `mix --suggestion-out`
    #[arg(long)]
    pub params: PathBuf,
    /// Where to write the processed vocal (stereo, 32-bit float WAV)
    #[arg(short, long)]
    pub out: PathBuf,
    /// The backing track: what the ride follows (when the parameters turn it on), and with
    /// --mix-out the other half of the full mix
    #[arg(long)]
    pub backing: Option<PathBuf>,
    /// Where to write the full mix (processed vocal + backing)
    #[arg(long, requires = "backing")]
    pub mix_out: Option<PathBuf>,
    /// Seconds of reverb tail to render after the vocal ends
    #[arg(long, default_value_t = 0.0, value_parser = tail_seconds)]
    pub tail: f32,
}

impl Args {
    pub fn run(
        self,
        warn: &mut dyn FnMut(String),
        say: &mut dyn FnMut(String),
    ) -> Result<(), String> {
        // the parameter file is an input too
        let mut outputs = vec![Named::new("the processed vocal (-o)", &self.out)];
        if let Some(p) = &self.mix_out {
            outputs.push(Named::new("the mix (--mix-out)", p));
        }
        same_file::check(
            &[Named::new("the parameters (--params)", &self.params)],
            &outputs,
        )?;
        let job = RenderJob {
            params: load_params(&self.params, warn)?,
            vocal: self.vocal,
            out: Some(self.out),
            backing: self.backing,
            mix_out: self.mix_out,
            tail_seconds: self.tail,
        };
        run(&job, warn, say)
    }
}

fn tail_seconds(s: &str) -> Result<f32, String> {
    let v: f32 = s
        .parse()
        .map_err(|_| format!("`{s}` is not a number of seconds"))?;
    if (0.0..=60.0).contains(&v) {
        Ok(v)
    } else {
        Err("the tail is 0 to 60 seconds".into())
    }
}

pub struct RenderJob {
    pub vocal: PathBuf,
    pub params: MixParams,
    /// Where the processed vocal goes (optional when a mix is written).
    pub out: Option<PathBuf>,
    pub backing: Option<PathBuf>,
    pub mix_out: Option<PathBuf>,
    pub tail_seconds: f32,
}

/// Reads a parameter file (see `param_file`), passing its warnings on.
pub fn load_params(
    path: &std::path::Path,
    warn: &mut dyn FnMut(String),
) -> Result<MixParams, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let loaded = param_file::parse(&text, &path.display().to_string())?;
    loaded.warnings.into_iter().for_each(&mut *warn);
    Ok(loaded.params)
}

/// Reads an audio file and says on stderr what the user should know about it.
pub fn load(
    path: &std::path::Path,
    what: &str,
    warn: &mut dyn FnMut(String),
) -> Result<Audio, String> {
    Ok(sanitised(read(path, what, warn)?, path, what, warn))
}

/// Decodes an audio file as it is (NaN included), passing on what the decoder noticed.
pub fn read(
    path: &std::path::Path,
    what: &str,
    warn: &mut dyn FnMut(String),
) -> Result<Audio, String> {
    let (audio, notes) = audio_io::read(path)?;
    notes.tell(what, path, audio.seconds(), warn);
    Ok(audio)
}

/// NaN and infinite samples silenced, with a word to the user.
pub fn sanitised(
    audio: Audio,
    path: &std::path::Path,
    what: &str,
    warn: &mut dyn FnMut(String),
) -> Audio {
    sanitised_named(audio, &path.display().to_string(), what, warn)
}

/// [`sanitised`] for audio that came from somewhere other than a file, called `shown`.
pub fn sanitised_named(
    mut audio: Audio,
    shown: &str,
    what: &str,
    warn: &mut dyn FnMut(String),
) -> Audio {
    let bad: usize = audio
        .channels
        .iter()
        .flatten()
        .filter(|v| !v.is_finite())
        .count();
    if bad > 0 {
        warn(format!(
            "{what} {shown}: {bad} samples are NaN or infinite; they are treated as silence"
        ));
        audio
            .channels
            .iter_mut()
            .flatten()
            .filter(|v| !v.is_finite())
            .for_each(|v| *v = 0.0);
    }
    audio
}

/// Brings audio to `to` Hz.
fn convert(audio: Audio, to: u32) -> Result<Audio, String> {
    if audio.sample_rate == to {
        return Ok(audio);
    }
    let channels = resample(&audio.channels, audio.sample_rate, to)?;
    Ok(Audio {
        sample_rate: to,
        channels,
    })
}

/// Two channels: mono doubled, more than two folded down (odd channels left, even right).
fn to_stereo(audio: Audio) -> Audio {
    let channels = match audio.channels.len() {
        1 => vec![audio.channels[0].clone(), audio.channels[0].clone()],
        2 => audio.channels,
        n => {
            let frames = audio.channels[0].len();
            let mut lr = vec![vec![0.0f32; frames]; 2];
            for (k, c) in audio.channels.iter().enumerate() {
                for (o, v) in lr[k % 2].iter_mut().zip(c) {
                    *o += v / (n as f32 / 2.0).ceil();
                }
            }
            lr
        }
    };
    Audio {
        sample_rate: audio.sample_rate,
        channels,
    }
}

pub fn run(
    job: &RenderJob,
    warn: &mut dyn FnMut(String),
    say: &mut dyn FnMut(String),
) -> Result<(), String> {
    let mut inputs = vec![Named::new("the vocal (--vocal)", &job.vocal)];
    if let Some(p) = &job.backing {
        inputs.push(Named::new("the backing (--backing)", p));
    }
    let outputs: Vec<Named> = [
        (job.out.as_deref(), "the processed vocal (-o)"),
        (job.mix_out.as_deref(), "the mix (--mix-out)"),
    ]
    .into_iter()
    .filter_map(|(p, what)| p.map(|p| Named::new(what, p)))
    .collect();
    same_file::check(&inputs, &outputs)?;
    let vocal = load(&job.vocal, "vocal", warn)?;
    // read the backing before the long work, so a bad backing fails fast
    let backing = match &job.backing {
        Some(path) => Some(load(path, "backing", warn)?),
        None => None,
    };
    render_decoded(job, vocal, backing, warn, say)
}

/// [`run`] on inputs already decoded (with [`load`]; `mix` decodes them once for the analysis
/// and the render) and checked against the outputs.
pub fn render_decoded(
    job: &RenderJob,
    vocal: Audio,
    backing: Option<Audio>,
    warn: &mut dyn FnMut(String),
    say: &mut dyn FnMut(String),
) -> Result<(), String> {
    let name = job.vocal.display().to_string();
    let backing_name = job.backing.as_ref().map(|p| p.display().to_string());
    let input_channels = vocal.channels.len();
    let rendered = render_audio(
        &job.params,
        job.tail_seconds,
        (vocal, &name),
        backing.map(|b| (b, backing_name.clone().unwrap_or_default())),
        warn,
        say,
    )?;
    let rate = rendered.vocal.sample_rate;
    if let Some(out) = &job.out {
        audio_io::write_wav(out, &rendered.vocal)?;
        say(format!(
            "{name}: {:.2} s, {} Hz, {} → {} (stereo, 32-bit float)",
            rendered.input_seconds,
            rate,
            if input_channels == 2 {
                "stereo"
            } else {
                "mono"
            },
            out.display()
        ));
        warn_if_clipping(&rendered.vocal, &out.display().to_string(), warn);
    }
    if let (Some(mix), Some(mix_out)) = (&rendered.mix, &job.mix_out) {
        audio_io::write_wav(mix_out, mix)?;
        say(format!(
            "mix with {} → {} ({:.2} s)",
            backing_name.unwrap_or_default(),
            mix_out.display(),
            mix.seconds()
        ));
        warn_if_clipping(mix, &mix_out.display().to_string(), warn);
    }
    Ok(())
}

/// What [`render_audio`] makes: the processed vocal (stereo, with its tail) and, given a
/// backing, the two mixed.
pub struct Rendered {
    pub vocal: Audio,
    pub mix: Option<Audio>,
    /// The vocal's length before its tail, at the chain's rate.
    pub input_seconds: f64,
}

/// The vocal through the chain with `params` (the backing on the ride's sidechain) and mixed
/// with the backing: `render` without files. Each input comes with the name its messages use.
pub fn render_audio(
    params: &MixParams,
    tail_seconds: f32,
    (vocal, name): (Audio, &str),
    backing: Option<(Audio, String)>,
    warn: &mut dyn FnMut(String),
    say: &mut dyn FnMut(String),
) -> Result<Rendered, String> {
    if vocal.channels.is_empty() {
        return Err(format!("vocal {name}: no audio"));
    }
    let vocal = vocal_for_the_chain(name, vocal, warn)?;
    let rate = vocal.sample_rate;
    // the ride listens to the backing as the plug-in's sidechain carries it: at the chain's rate,
    // stereo, silent where it ends
    let backing = match backing {
        Some((b, backing_name)) => {
            if b.channels.is_empty() {
                return Err(format!("backing {backing_name}: no audio"));
            }
            if b.sample_rate != rate {
                say(format!(
                    "backing {backing_name}: converting {} Hz to {rate} Hz",
                    b.sample_rate
                ));
            }
            Some(to_stereo(convert(b, rate)?))
        }
        None => None,
    };
    let rendered = through_the_chain(params, tail_seconds, &vocal, backing.as_ref())?;
    let mix = backing.map(|b| mixed(&rendered, &b));
    Ok(Rendered {
        vocal: rendered,
        mix,
        input_seconds: vocal.seconds(),
    })
}

/// The vocal at a rate the chain is made for, mono or stereo (more channels folded to mono).
fn vocal_for_the_chain(
    name: &str,
    vocal: Audio,
    warn: &mut dyn FnMut(String),
) -> Result<Audio, String> {
    let in_rate = vocal.sample_rate;
    let rate = in_rate.clamp(LOWEST_RATE, HIGHEST_RATE);
    let rate = if rate != in_rate && in_rate < LOWEST_RATE {
        44_100
    } else {
        rate
    };
    if rate != in_rate {
        warn(format!(
            "vocal {name}: {in_rate} Hz is outside the {LOWEST_RATE}–{HIGHEST_RATE} Hz the chain is made for; rendering at {rate} Hz"
        ));
    }
    debug_assert!((MIN_SAMPLE_RATE..=MAX_SAMPLE_RATE).contains(&(rate as f32)));
    let mut vocal = convert(vocal, rate)?;
    let count = vocal.channels.len();
    if count > 2 {
        warn(format!("vocal {name}: {count} channels folded to mono"));
        let frames = vocal.frames();
        let mono = (0..frames)
            .map(|i| vocal.channels.iter().map(|c| c[i]).sum::<f32>() / count as f32)
            .collect();
        vocal.channels = vec![mono];
    }
    Ok(vocal)
}

/// The vocal (and its reverb tail) through the chain, the backing on its sidechain: stereo.
fn through_the_chain(
    params: &MixParams,
    tail_seconds: f32,
    vocal: &Audio,
    backing: Option<&Audio>,
) -> Result<Audio, String> {
    let rate = vocal.sample_rate;
    let tail = (tail_seconds * rate as f32).round() as usize;
    let frames = vocal.frames() + tail;
    let mut chain = VocalChain::new();
    chain.set_params_immediate(params);
    chain.prepare(rate as f32).map_err(|e| e.to_string())?;
    let stereo_in = vocal.channels.len() == 2;
    let mut l = vocal.channels[0].clone();
    let mut r = if stereo_in {
        vocal.channels[1].clone()
    } else {
        vec![0.0; l.len()]
    };
    l.resize(frames, 0.0);
    r.resize(frames, 0.0);
    let sidechain: Option<[Vec<f32>; 2]> = backing.map(|b| {
        [0, 1].map(|c| {
            let mut x = b.channels[c].clone();
            x.resize(frames, 0.0);
            x
        })
    });
    let bar = Progress::new("rendering", frames as u64);
    for (k, (bl, br)) in l.chunks_mut(BLOCK).zip(r.chunks_mut(BLOCK)).enumerate() {
        bar.set((k * BLOCK) as u64);
        let at = k * BLOCK;
        let piece = sidechain
            .as_ref()
            .map(|[sl, sr]| [&sl[at..at + bl.len()], &sr[at..at + bl.len()]]);
        if stereo_in {
            chain.process_stereo_with(bl, br, piece)
        } else {
            chain.process_mono_with(bl, br, piece)
        }
    }
    bar.finish();
    Ok(Audio {
        sample_rate: rate,
        channels: vec![l, r],
    })
}

/// The rendered vocal plus the backing, as long as the longer of the two.
fn mixed(rendered: &Audio, backing: &Audio) -> Audio {
    let n = rendered.frames().max(backing.frames());
    let channels = (0..2)
        .map(|c| {
            (0..n)
                .map(|i| {
                    rendered.channels[c].get(i).copied().unwrap_or(0.0)
                        + backing.channels[c].get(i).copied().unwrap_or(0.0)
                })
                .collect()
        })
        .collect();
    Audio {
        sample_rate: rendered.sample_rate,
        channels,
    }
}

fn warn_if_clipping(audio: &Audio, name: &str, warn: &mut dyn FnMut(String)) {
    let peak = audio
        .channels
        .iter()
        .flatten()
        .fold(0.0f32, |m, v| m.max(v.abs()));
    if peak > 1.0 {
        warn(format!(
            "{name} peaks at {:+.1} dBFS: fine in 32-bit float, but lower the level before exporting to a fixed-point format",
            20.0 * peak.log10()
        ));
    }
}
