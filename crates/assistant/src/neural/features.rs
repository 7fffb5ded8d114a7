//! The CNNs' input (Li & Lerch, §III-C): mel spectrograms of the mono vocal and the mono backing at
//! 44.1 kHz (FFT 2048, hop 1024, Hann, 128 Slaney mel bands — [`crate::spectrum`]), cut into
//! blocks of 64 frames (1.49 s), shape (2, 128, 64): channel 0 the vocal, 1 the backing, then mel
//! band, then time. Each channel of a block is divided by its own maximum, as the paper does.
//!
//! The same code makes the training data (`automix dataset`) and the input at inference, so the
//! two cannot drift apart.
//!
//! Choices the paper leaves open, and what is used:
//! - Values are mel power in decibels under the block channel's maximum, 80 dB of range mapped
//!   onto 0..=1 ([`scaled`]): the maximum is 1, as the paper's "normalised to its maximum" has it.
//!   Linear power was tried first: with most of a vocal's spectrum 30–60 dB under its peak, the
//!   values the EQ model must read were all near 0, and it learned no better than predicting
//!   the mean (`models/models.json` history in docs/cnn.md).
//! - Quiet vocal: the paper removes frames whose vocal loudness is under −30 dB. That absolute
//!   level would discard most of a quietly recorded vocal, so frames are kept by the rules'
//!   vocal-activity gate instead: 20 LU under the vocal's own integrated loudness
//!   ([`crate::GATE_RELATIVE_LU`]). Kept frames are joined and cut into whole blocks; a tail
//!   shorter than a block is dropped.
//! - A missing or shorter backing gives zeros where it has no frame.

use crate::loudness::Blocks;
use crate::mel::MELS;
use crate::spectrum::{Analyser, Frames};
use crate::{ANALYSIS_RATE, GATE_RELATIVE_LU};

/// The range below a block's maximum that the input keeps, dB (quieter is 0).
pub const RANGE_DB: f32 = 80.0;

/// Frames per block.
pub const BLOCK_FRAMES: usize = 64;
/// Values per block: 2 × 128 × 64.
pub const BLOCK_LEN: usize = 2 * MELS * BLOCK_FRAMES;

/// Blocks of one song, stored one after another, each [`BLOCK_LEN`] values.
#[derive(Clone, Debug, Default)]
pub struct FeatureBlocks {
    pub data: Vec<f32>,
    /// Frames the vocal-activity gate kept, of all whole frames.
    pub frames_kept: usize,
    pub frames_total: usize,
}

impl FeatureBlocks {
    pub fn len(&self) -> usize {
        self.data.len() / BLOCK_LEN
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    pub fn block(&self, i: usize) -> &[f32] {
        &self.data[i * BLOCK_LEN..(i + 1) * BLOCK_LEN]
    }
}

/// The blocks of a vocal and its backing, both mono at [`ANALYSIS_RATE`].
pub fn feature_blocks(vocal: &[f32], backing: Option<&[f32]>) -> FeatureBlocks {
    let mut analyser = Analyser::new(ANALYSIS_RATE);
    let vf = analyser.frames(vocal, true);
    let bf = backing.map(|b| analyser.frames(b, true));
    blocks_of_frames(vocal, &vf, bf.as_ref())
}

/// As [`feature_blocks`], from frames already analysed (with mel) by the caller.
pub fn blocks_of_frames(vocal: &[f32], vf: &Frames, bf: Option<&Frames>) -> FeatureBlocks {
    gated_blocks(Blocks::of_mono(vocal, ANALYSIS_RATE).integrated(), vf, bf)
}

/// As [`blocks_of_frames`], with the vocal's integrated loudness (LUFS, of the mono signal at
/// [`ANALYSIS_RATE`]) already measured by the caller; `None` for a silent vocal.
pub fn gated_blocks(vocal_lufs: Option<f64>, vf: &Frames, bf: Option<&Frames>) -> FeatureBlocks {
    let mut out = FeatureBlocks {
        frames_total: vf.len(),
        ..Default::default()
    };
    let Some(lufs) = vocal_lufs else {
        return out;
    };
    let threshold = (lufs + GATE_RELATIVE_LU) as f32;
    let kept: Vec<usize> = (0..vf.len())
        .filter(|&i| vf.loudness[i] >= threshold)
        .collect();
    out.frames_kept = kept.len();
    let (Some(vmel), bmel) = (vf.mel.as_ref(), bf.and_then(|b| b.mel.as_ref())) else {
        return out;
    };
    let blocks = kept.len() / BLOCK_FRAMES;
    out.data = vec![0.0; blocks * BLOCK_LEN];
    for (k, frames) in kept.chunks_exact(BLOCK_FRAMES).enumerate() {
        let block = &mut out.data[k * BLOCK_LEN..(k + 1) * BLOCK_LEN];
        let (v, b) = block.split_at_mut(MELS * BLOCK_FRAMES);
        for (t, &i) in frames.iter().enumerate() {
            for m in 0..MELS {
                v[m * BLOCK_FRAMES + t] = vmel[i][m];
                if let Some(frame) = bmel.and_then(|b| b.get(i)) {
                    b[m * BLOCK_FRAMES + t] = frame[m];
                }
            }
        }
        for channel in [v, b] {
            let max = channel.iter().fold(0.0f32, |a, x| a.max(*x));
            if max > 0.0 {
                channel.iter_mut().for_each(|x| *x = scaled(*x / max));
            }
        }
    }
    out
}

/// A power relative to the block's maximum (0..=1) to the network's scale: decibels under the
/// maximum, [`RANGE_DB`] of them mapped linearly onto 0..=1 (the maximum is 1, as the paper's
/// normalisation has it; anything 80 dB under it or silent is 0).
pub fn scaled(relative_power: f32) -> f32 {
    if relative_power <= 0.0 {
        return 0.0;
    }
    (1.0 + 10.0 * relative_power.log10() / RANGE_DB).clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mel::mel_to_hz;
    use crate::spectrum::HOP;

    const RATE: f32 = ANALYSIS_RATE as f32;

    fn tone(seconds: f32, hz: f32, amp: f32) -> Vec<f32> {
        (0..(seconds * RATE) as usize)
            .map(|i| amp * (std::f32::consts::TAU * hz * i as f32 / RATE).sin())
            .collect()
    }

    fn at(block: &[f32], c: usize, m: usize, t: usize) -> f32 {
        block[c * MELS * BLOCK_FRAMES + m * BLOCK_FRAMES + t]
    }

    /// The mel band whose centre lies nearest `hz`.
    fn band_of(hz: f64) -> usize {
        let top = crate::mel::hz_to_mel(ANALYSIS_RATE as f64 / 2.0);
        (0..MELS)
            .min_by(|&a, &b| {
                let c = |m: usize| (mel_to_hz(top * (m + 1) as f64 / (MELS + 1) as f64) - hz).abs();
                c(a).total_cmp(&c(b))
            })
            .unwrap()
    }

    #[test]
    fn blocks_hold_each_signal_in_its_channel_normalised_to_its_maximum() {
        let vocal = tone(10.0, 1000.0, 0.3);
        let backing = tone(10.0, 250.0, 0.05);
        let f = feature_blocks(&vocal, Some(&backing));
        // (441000 − 2048) / 1024 + 1 = 429 frames, all singing: six whole blocks
        assert_eq!((f.frames_total, f.frames_kept, f.len()), (429, 429, 6));
        for k in 0..f.len() {
            let b = f.block(k);
            for (c, hz) in [(0, 1000.0), (1, 250.0)] {
                let plane = &b[c * MELS * BLOCK_FRAMES..(c + 1) * MELS * BLOCK_FRAMES];
                assert_eq!(plane.iter().fold(0.0f32, |a, x| a.max(*x)), 1.0);
                let loudest = (0..MELS)
                    .max_by(|&x, &y| at(b, c, x, 10).total_cmp(&at(b, c, y, 10)))
                    .unwrap();
                assert!(
                    loudest.abs_diff(band_of(hz)) <= 1,
                    "channel {c}: band {loudest}, {hz} Hz is band {}",
                    band_of(hz)
                );
            }
        }
    }

    #[test]
    fn frames_where_the_vocal_rests_are_left_out_and_a_missing_backing_is_zeros() {
        // 4 s singing, 4 s silence, 4 s singing: the frames of 8 s kept, give or take the two
        // frames that straddle each edge
        let mut vocal = tone(4.0, 440.0, 0.3);
        vocal.extend(vec![0.0; 4 * RATE as usize]);
        vocal.extend(tone(4.0, 440.0, 0.3));
        let f = feature_blocks(&vocal, None);
        let singing = 2.0 * 4.0 * RATE / HOP as f32;
        let kept = f.frames_kept as f32;
        assert!(
            (kept - singing).abs() <= 4.0,
            "{kept} frames of {}",
            f.frames_total
        );
        assert_eq!(f.len(), f.frames_kept / BLOCK_FRAMES);
        for k in 0..f.len() {
            let b = f.block(k);
            // no silent vocal frame made it in (the gate is 20 LU under the vocal's loudness, so
            // even a frame straddling an edge holds more than −30 dB of the block's peak);
            // the backing channel is empty
            for t in 0..BLOCK_FRAMES {
                assert!(
                    (0..MELS).any(|m| at(b, 0, m, t) > 1e-3),
                    "block {k} frame {t}"
                );
            }
            assert!(b[MELS * BLOCK_FRAMES..].iter().all(|x| *x == 0.0));
        }
    }

    #[test]
    fn values_are_decibels_under_the_maximum_over_80_db() {
        assert_eq!(scaled(1.0), 1.0);
        assert!(
            (scaled(1e-4) - 0.5).abs() < 1e-6,
            "40 dB under: {}",
            scaled(1e-4)
        );
        assert_eq!(scaled(1e-9), 0.0);
        assert_eq!(scaled(0.0), 0.0);
        // in a block: the backing drops by 40 dB (amplitude / 100) at 2.2 s, inside the second
        // block (1.49–2.97 s): its later frames sit at 0.5 where the loud ones are at 1
        let vocal = tone(4.0, 1000.0, 0.3);
        let mut backing = tone(4.0, 1000.0, 0.3);
        backing[(2.2 * RATE) as usize..]
            .iter_mut()
            .for_each(|x| *x *= 0.01);
        let f = feature_blocks(&vocal, Some(&backing));
        let (b, m) = (f.block(1), band_of(1000.0));
        assert!(
            (at(b, 1, m, 5) - 1.0).abs() < 0.01,
            "loud: {}",
            at(b, 1, m, 5)
        );
        assert!(
            (at(b, 1, m, 60) - 0.5).abs() < 0.01,
            "40 dB under: {}",
            at(b, 1, m, 60)
        );
    }

    #[test]
    fn silence_or_a_short_vocal_gives_no_blocks() {
        assert!(feature_blocks(&vec![0.0; 5 * RATE as usize], None).is_empty());
        assert!(feature_blocks(&tone(1.0, 440.0, 0.3), None).is_empty());
        assert!(feature_blocks(&[], None).is_empty());
    }
}
