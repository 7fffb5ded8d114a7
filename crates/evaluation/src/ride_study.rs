//! The ride judged on songs (docs/assistant.md, "Ride"): the spread of the vocal's short-term
//! balance against the backing ([`automix_assistant::balance_spread`]) for the vocal as given (a
//! professional's stem), mixed at the static level, and ridden — over the same sung windows, those
//! of the unprocessed vocal.

use automix_assistant::balance_spread::{balance, blocks, std_dev, sung_windows};
use automix_dsp::VocalChain;
use automix_dsp::params::{MixParams, ParamId};

/// Blocks the study feeds the chain.
const BLOCK: usize = 4096;

/// A vocal (one or two channels) through the chain with `params` against `backing`, from the
/// first sample; also the ride's gain at every control tick's start (dB), for its rate.
pub fn render(
    params: &MixParams,
    rate: u32,
    vocal: &[Vec<f32>],
    backing: &[Vec<f32>],
) -> (Vec<Vec<f32>>, Vec<f32>) {
    let mut chain = VocalChain::new();
    chain.set_params_immediate(params);
    chain.prepare(rate as f32).expect("a supported rate");
    let frames = vocal[0].len();
    let mut l = vocal[0].clone();
    let stereo = vocal.len() > 1;
    let mut r = if stereo {
        vocal[1].clone()
    } else {
        vec![0.0; frames]
    };
    let side = |c: usize| -> Vec<f32> {
        let mut x = backing[c.min(backing.len() - 1)].clone();
        x.resize(frames, 0.0);
        x
    };
    let (bl, br) = (side(0), side(1));
    let mut gains = Vec::with_capacity(frames / BLOCK + 1);
    for start in (0..frames).step_by(BLOCK) {
        let end = (start + BLOCK).min(frames);
        let piece = Some([&bl[start..end], &br[start..end]]);
        if stereo {
            chain.process_stereo_with(&mut l[start..end], &mut r[start..end], piece);
        } else {
            chain.process_mono_with(&mut l[start..end], &mut r[start..end], piece);
        }
        gains.push(chain.ride_gain_db());
    }
    (vec![l, r], gains)
}

/// The spreads of one song.
#[derive(Clone, Debug)]
pub struct RideSpreads {
    pub sung_windows: usize,
    /// The vocal as given (a professional's mixed stem), when it is one.
    pub given: Option<f64>,
    pub static_level: Option<f64>,
    pub ride: Option<f64>,
    /// The mean short-term balance over the sung windows, LU: as given, static, ridden.
    pub means: [Option<f64>; 3],
    /// The largest ride gain change over one render block (4096 samples), as dB per second.
    pub fastest_db_per_s: f64,
    /// The ride's gain range over the song (min, max), dB.
    pub ride_span_db: (f32, f32),
}

/// Measures the spreads of `vocal` mixed with `params` (ride off: the static level; ride on) over
/// `backing`; `given_is_mixed` says whether the vocal as given is a professional's.
pub fn study(
    params: &MixParams,
    rate: u32,
    vocal: &[Vec<f32>],
    backing: &[Vec<f32>],
    given_is_mixed: bool,
) -> RideSpreads {
    let backing_blocks = blocks(backing, rate);
    let dry = blocks(vocal, rate);
    let sung = sung_windows(&dry, &backing_blocks);
    let spread_of = |v: &[f64]| std_dev(&balance(v, &backing_blocks, &sung));
    let mean_of = |v: &[f64]| {
        let b = balance(v, &backing_blocks, &sung);
        (!b.is_empty()).then(|| b.iter().sum::<f64>() / b.len() as f64)
    };
    let mut off = params.clone();
    off.set(ParamId::RideOn, 0.0);
    let mut on = params.clone();
    on.set(ParamId::RideOn, 1.0);
    let (static_out, _) = render(&off, rate, vocal, backing);
    let (ride_out, gains) = render(&on, rate, vocal, backing);
    let block_seconds = BLOCK as f64 / rate as f64;
    let fastest = gains
        .windows(2)
        .map(|w| (w[1] - w[0]).abs() as f64 / block_seconds)
        .fold(0.0, f64::max);
    let span = gains
        .iter()
        .fold((0.0f32, 0.0f32), |(lo, hi), &g| (lo.min(g), hi.max(g)));
    let (static_blocks, ride_blocks) = (blocks(&static_out, rate), blocks(&ride_out, rate));
    RideSpreads {
        means: [
            mean_of(&dry),
            mean_of(&static_blocks),
            mean_of(&ride_blocks),
        ],
        sung_windows: sung.iter().filter(|s| **s).count(),
        given: given_is_mixed.then(|| spread_of(&dry)).flatten(),
        static_level: spread_of(&static_blocks),
        ride: spread_of(&ride_blocks),
        fastest_db_per_s: fastest,
        ride_span_db: span,
    }
}

/// A track of one or two channels, as the analysis takes it.
fn track(
    channels: &[Vec<f32>],
    rate: u32,
) -> Result<automix_assistant::Track, automix_assistant::track::TrackError> {
    let slices: Vec<&[f32]> = channels.iter().map(Vec::as_slice).collect();
    automix_assistant::TrackCapture::of_channels(rate, &slices)
}

/// The rules' suggestion for `vocal` over `backing` (built-in targets, the loudness gate).
pub fn suggest(
    vocal: &[Vec<f32>],
    backing: &[Vec<f32>],
    rate: u32,
) -> Result<automix_assistant::MixSuggestion, String> {
    let (v, b) = (track(vocal, rate)?, track(backing, rate)?);
    automix_assistant::analyze(
        &automix_assistant::AnalysisInput {
            vocal: &v,
            backing: Some(&b),
            tempo_bpm: None,
            engine: automix_assistant::Engine::Rules,
            models: None,
            targets: None,
            keep: None,
            vad_gate: None,
        },
        &mut |_, _| true,
    )
    .map_err(|e| e.to_string())
}
