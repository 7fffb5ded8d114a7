//! How much a vocal's balance against its backing moves: the measure behind the ride.
//!
//! The balance is the 3 s short-term loudness (BS.1770) of the vocal minus that of the backing,
//! every 100 ms; its spread is the standard deviation over the sung windows. A window is sung when
//! the *unprocessed* vocal's short-term loudness is within [`SUNG_GATE_LU`] of its integrated
//! loudness (and the backing is not silent), so that every version of a vocal compared (as given,
//! at the static level, ridden) is measured over the same windows.

use crate::loudness::{ABSOLUTE_GATE_LUFS, BlockMeter, Blocks, lufs};

/// 100 ms blocks in a short-term window.
pub const WINDOW_BLOCKS: usize = 30;
/// A short-term window is sung when the dry vocal is no more than this under its integrated level.
pub const SUNG_GATE_LU: f64 = -10.0;

/// 100 ms K-weighted energies of a signal of one or two channels.
pub fn blocks(channels: &[Vec<f32>], rate: u32) -> Vec<f64> {
    let n = channels.len().clamp(1, 2);
    let frames = channels.iter().map(Vec::len).min().unwrap_or(0);
    let mut meter = BlockMeter::new(rate, n);
    let mut interleaved = Vec::with_capacity(frames * n);
    for i in 0..frames {
        for c in &channels[..n] {
            interleaved.push(c[i]);
        }
    }
    meter.push_interleaved(&interleaved);
    meter.finish().0
}

/// Short-term energies, one per 100 ms from the first whole window on.
pub fn short_term(blocks: &[f64]) -> Vec<f64> {
    (WINDOW_BLOCKS..=blocks.len())
        .map(|end| blocks[end - WINDOW_BLOCKS..end].iter().sum::<f64>() / WINDOW_BLOCKS as f64)
        .collect()
}

/// Which short-term windows are sung (see the module's text).
pub fn sung_windows(dry_vocal: &[f64], backing: &[f64]) -> Vec<bool> {
    let Some(level) = Blocks(dry_vocal.to_vec()).integrated() else {
        return vec![false; short_term(dry_vocal).len()];
    };
    short_term(dry_vocal)
        .iter()
        .zip(short_term(backing))
        .map(|(&v, b)| {
            lufs(v) >= level + SUNG_GATE_LU
                && lufs(v) > ABSOLUTE_GATE_LUFS
                && lufs(b) > ABSOLUTE_GATE_LUFS
        })
        .collect()
}

/// The short-term balance (vocal − backing, LU) over the sung windows.
pub fn balance(vocal: &[f64], backing: &[f64], sung: &[bool]) -> Vec<f64> {
    short_term(vocal)
        .iter()
        .zip(short_term(backing))
        .zip(sung)
        .filter(|(_, s)| **s)
        .map(|((&v, b), _)| lufs(v) - lufs(b))
        .collect()
}

/// Standard deviation; None for fewer than two values.
pub fn std_dev(x: &[f64]) -> Option<f64> {
    if x.len() < 2 {
        return None;
    }
    let mean = x.iter().sum::<f64>() / x.len() as f64;
    Some((x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (x.len() - 1) as f64).sqrt())
}
