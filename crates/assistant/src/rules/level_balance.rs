//! The level rule: the vocal gain that puts the processed vocal (EQ, compressor, reverb) 1.77 LU
//! under the backing's integrated loudness (the research's dataset mean, from Li's slides of the work).
//!
//! The processed vocal's loudness needs the reverb, and running a song through the FDN costs more
//! than the rest of the analysis together. The reverb is linear, though, and its tail is diffuse:
//! the energy it adds in each 100 ms block is, to a close approximation, the compressed vocal's
//! K-weighted block energies convolved with the energy envelope of the reverb's wet impulse
//! response (dry and tail are nearly uncorrelated once the fade-in has passed). So the rule
//! renders only the impulse response — a few seconds — through the engine's own reverb and adds
//! block energies. The tests check the prediction against the rendered files.

use crate::loudness::{BlockMeter, Blocks};
use automix_dsp::VocalChain;
use automix_dsp::params::{MixParams, ParamId};

pub const TARGET_BELOW_BACKING_LU: f64 = 1.77;

/// The wet part of the chain's stereo impulse response (the direct sound removed) with the
/// reverb set as in `params`, EQ and compressor off, at `sample_rate`.
pub fn wet_impulse_response(params: &MixParams, sample_rate: u32) -> [Vec<f32>; 2] {
    let mut p = params.clone();
    p.set(ParamId::EqBypass, 1.0);
    p.set(ParamId::CompBypass, 1.0);
    p.set(ParamId::LevelGain, 0.0);
    let reverb_on = !p.on(ParamId::ReverbBypass);
    let seconds = if reverb_on {
        // to −120 dB and past the fade-in
        (2.0 * p.get(ParamId::ReverbTime) + p.get(ParamId::ReverbFadeIn) + 0.5).min(20.0)
    } else {
        0.1
    };
    let n = (seconds * sample_rate as f32) as usize;
    let mut chain = VocalChain::new();
    chain.set_params_immediate(&p);
    chain
        .prepare(sample_rate as f32)
        .expect("the analysis rate is supported");
    let (mut l, mut r) = (vec![0.0f32; n], vec![0.0f32; n]);
    l[0] = 1.0;
    for (bl, br) in l.chunks_mut(4096).zip(r.chunks_mut(4096)) {
        chain.process_mono(bl, br);
    }
    l[0] -= 1.0;
    r[0] -= 1.0;
    [l, r]
}

/// Energy kernel of a wet response over block lags: `g[j]` is the share of a unit of dry energy
/// in one block that lands `j` blocks later. A lag `L` between two samples of blocks `j` apart
/// occurs with weight `1 − |L − jB|/B` (the blocks' overlap).
fn energy_kernel(wet: &[f32], block: usize) -> Vec<f64> {
    let blocks = wet.len().div_ceil(block) + 1;
    let mut g = vec![0.0f64; blocks + 1];
    for (lag, &w) in wet.iter().enumerate() {
        let e = (w as f64) * (w as f64);
        let j = lag / block;
        let t = (lag % block) as f64 / block as f64;
        g[j] += e * (1.0 - t);
        g[j + 1] += e * t;
    }
    g
}

/// Integrated loudness (LUFS) of the processed vocal as it plays: `dry` are the K-weighted 100 ms
/// blocks of the compressed mono vocal; it plays on both sides with the reverb's `wet` responses
/// added (the tail after the vocal ends included). `None` when silent.
pub fn processed_loudness(dry: &Blocks, wet: &[Vec<f32>; 2], sample_rate: u32) -> Option<f64> {
    let block = (sample_rate as usize + 5) / 10;
    let mut total = dry.scaled(2.0);
    for w in wet {
        let g = energy_kernel(w, block);
        let mut tail = vec![0.0f64; dry.len() + g.len()];
        for (m, &d) in dry.0.iter().enumerate() {
            if d == 0.0 {
                continue;
            }
            for (j, &gj) in g.iter().enumerate() {
                tail[m + j] += d * gj;
            }
        }
        total = total.plus(&Blocks(tail));
    }
    total.integrated()
}

/// Loudness of a two-channel rendering measured directly (for checking the prediction).
pub fn measured_loudness(l: &[f32], r: &[f32], sample_rate: u32) -> Option<f64> {
    let mut m = BlockMeter::new(sample_rate, 2);
    let inter: Vec<f32> = l.iter().zip(r).flat_map(|(a, b)| [*a, *b]).collect();
    m.push_interleaved(&inter);
    m.finish().integrated()
}
