//! Mixing quality measured against professional mixes (`automix eval`).
//!
//! A professionally mixed song with its vocal stem and accompaniment holds a professional's
//! decisions: how loud the vocal sits, its tone, its dynamics. The evaluation hands the assistant
//! that vocal — as it is, with a random gain, and with the research's random EQ and a random gain
//! (seeded) — lets each engine mix it over the professional accompaniment, and measures how far
//! the result lands from the professional vocal ([`metrics`]). Two baselines stand beside the
//! engines: doing nothing, and only the research's level rule (the vocal 1.77 LU under the
//! accompaniment, nothing else).
//!
//! The targets the assistant aims at are fitted on songs: to score a song fairly, [`fit_targets`]
//! takes the *other* songs' professional vocals (leave one song out), never the song itself.

pub mod degrade;
pub mod gate_study;
pub mod metrics;
pub mod reference_accuracy;
pub mod ride_study;

use automix_assistant::cnn::CnnModels;
use automix_assistant::targets::Targets;
use automix_assistant::tone_eq::ToneTarget;
use automix_assistant::{AnalysisInput, Engine, Track, TrackCapture, analyze, vocal_tone};
use degrade::{Degradation, InputKind};
use metrics::{Errors, Measured, Stereo, ToneGate};

/// A professionally mixed song: its vocal stem and its accompaniment, at one rate and length.
pub struct Song {
    pub name: String,
    pub sample_rate: u32,
    pub vocal: Stereo,
    pub accompaniment: Stereo,
}

/// Who mixes the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// The input as it is.
    Nothing,
    /// Only a level that puts the input 1.77 LU under the accompaniment.
    LevelRule,
    Engine(Engine),
}

impl Method {
    pub const ALL: [Method; 5] = [
        Method::Nothing,
        Method::LevelRule,
        Method::Engine(Engine::Rules),
        Method::Engine(Engine::Cnn),
        Method::Engine(Engine::Auto),
    ];

    pub fn name(self) -> &'static str {
        match self {
            Method::Nothing => "nothing",
            Method::LevelRule => "-1.77 LU",
            Method::Engine(e) => e.name(),
        }
    }
}

/// What a song's professional vocal tells about the targets.
#[derive(Clone, Debug)]
pub struct Profile {
    pub name: String,
    /// Professional vocal minus accompaniment, integrated loudness as both play, LU.
    pub balance_lu: f64,
    /// The vocal's tone as the assistant measures it ([`vocal_tone`]).
    pub tone: [f64; 9],
}

pub fn profile(song: &Song) -> Result<Profile, String> {
    let v = song.vocal.blocks(song.sample_rate).integrated();
    let a = song.accompaniment.blocks(song.sample_rate).integrated();
    let (Some(v), Some(a)) = (v, a) else {
        return Err(format!(
            "{}: the vocal or the accompaniment is silent",
            song.name
        ));
    };
    let tone = vocal_tone(&track(&song.vocal, song.sample_rate)?)
        .ok_or_else(|| format!("{}: the vocal is too short to measure its tone", song.name))?;
    Ok(Profile {
        name: song.name.clone(),
        balance_lu: v - a,
        tone,
    })
}

/// Targets fitted on `profiles` (the tone: their mean and spread; the level stays the research's
/// rule, which was fitted on its own songs).
pub fn fit_targets(profiles: &[&Profile]) -> Targets {
    let tones: Vec<[f64; 9]> = profiles.iter().map(|p| p.tone).collect();
    Targets {
        tone: ToneTarget::fit(
            &tones,
            format!("the mean of {} professional vocals", tones.len()),
        ),
        ..Targets::built_in()
    }
}

/// One input mixed by one method.
#[derive(Clone, Debug)]
pub struct Row {
    pub kind: InputKind,
    pub method: Method,
    pub errors: Errors,
    /// The level the method set, dB.
    pub gain_db: f64,
}

/// Everything measured on one song.
pub struct SongResult {
    pub name: String,
    pub seconds: f64,
    pub balance_lu: f64,
    pub inputs: Vec<(InputKind, Degradation)>,
    pub rows: Vec<Row>,
}

impl SongResult {
    pub fn get(&self, kind: InputKind, method: Method) -> Option<&Row> {
        self.rows
            .iter()
            .find(|r| r.kind == kind && r.method == method)
    }
}

pub struct Options<'a> {
    pub seed: u64,
    pub methods: &'a [Method],
    pub models: Option<&'a CnnModels>,
    /// The targets to use for this song (fitted without it).
    pub targets: &'a Targets,
}

/// A track for the assistant from a stereo signal.
fn track(s: &Stereo, sample_rate: u32) -> Result<Track, automix_assistant::track::TrackError> {
    TrackCapture::of_channels(sample_rate, &[&s.left, &s.right])
}

/// Mixes the song's three inputs with every method in `opt` and scores them.
pub fn evaluate(song: &Song, opt: &Options) -> Result<SongResult, String> {
    let rate = song.sample_rate;
    let gate = ToneGate::of(&song.vocal, rate);
    if gate.frames() == 0 {
        return Err(format!("{}: the vocal is silent", song.name));
    }
    let pro = metrics::measure(&song.vocal, rate, &gate);
    let acc_lufs = song
        .accompaniment
        .blocks(rate)
        .integrated()
        .ok_or_else(|| format!("{}: the accompaniment is silent", song.name))?;
    let balance_lu = pro.lufs.ok_or("silent vocal")? - acc_lufs;
    let backing = track(&song.accompaniment, rate)?;
    let seed = degrade::song_seed(opt.seed, &song.name);
    let mut inputs = Vec::new();
    let mut rows = Vec::new();
    for (k, kind) in InputKind::ALL.into_iter().enumerate() {
        let d = degrade::draw(kind, seed.wrapping_add(k as u64));
        let input = degrade::apply(&song.vocal, rate, &d)?;
        let input_lufs = input.blocks(rate).integrated();
        let input_track = track(&input, rate)?;
        for &method in opt.methods {
            let (processed, gain_db) = match method {
                Method::Nothing => (input.clone(), 0.0),
                Method::LevelRule => {
                    let g = input_lufs.map_or(0.0, |l| {
                        acc_lufs - automix_assistant::level_balance::TARGET_BELOW_BACKING_LU - l
                    });
                    (input.gained(g), g)
                }
                Method::Engine(engine) => {
                    let s = analyze(
                        &AnalysisInput {
                            keep: None,
                            vad_gate: None,
                            vocal: &input_track,
                            backing: Some(&backing),
                            tempo_bpm: None,
                            engine,
                            models: opt.models,
                            targets: Some(opt.targets),
                        },
                        &mut |_, _| true,
                    )
                    .map_err(|e| format!("{} ({}): {e}", song.name, kind.name()))?;
                    let g = s.params.get(automix_dsp::params::ParamId::LevelGain) as f64;
                    (
                        degrade::render(&input, rate, &s.params, Some(&song.accompaniment))?,
                        g,
                    )
                }
            };
            let measured: Measured = metrics::measure(&processed, rate, &gate);
            let errors = metrics::errors(&measured, &pro).ok_or_else(|| {
                format!(
                    "{} ({}, {}): the processed vocal is silent",
                    song.name,
                    kind.name(),
                    method.name()
                )
            })?;
            rows.push(Row {
                kind,
                method,
                errors,
                gain_db,
            });
        }
        inputs.push((kind, d));
    }
    Ok(SongResult {
        name: song.name.clone(),
        seconds: song.vocal.len() as f64 / rate as f64,
        balance_lu,
        inputs,
        rows,
    })
}
