//! The vocal fader: a gain in dB that glides per sample.

use super::processor::{Block, Change, Processor};
use super::smoother::{SMOOTH_SECONDS, Smoothed};
use crate::params::{MixParams, ParamId};

#[derive(Clone, Debug)]
pub struct Gain {
    db: Smoothed,
}

impl Gain {
    pub fn new(db: f32) -> Self {
        Gain {
            db: Smoothed::linear(db),
        }
    }

    pub fn current_db(&self) -> f32 {
        self.db.value()
    }
}

impl Processor for Gain {
    fn prepare(&mut self, sample_rate: f32) {
        self.db.set_time(SMOOTH_SECONDS, sample_rate);
    }

    /// A fader has no memory.
    fn reset(&mut self) {}

    /// The level's gain, or 0 dB while the level stage is bypassed (the fader glides there, so
    /// the bypass needs no crossfade of its own).
    fn set_params(&mut self, p: &MixParams, change: Change) {
        let db = if p.on(ParamId::LevelBypass) {
            0.0
        } else {
            p.get(ParamId::LevelGain)
        };
        self.db.set(db, change);
    }

    fn process(&mut self, block: Block<'_>) {
        let stereo = block.is_stereo();
        let Block { left, right, .. } = block;
        if !self.db.is_moving() {
            let g = db_to_gain(self.db.value());
            if g == 1.0 {
                return;
            }
            left.iter_mut().for_each(|x| *x *= g);
            if stereo {
                right.iter_mut().for_each(|x| *x *= g);
            }
            return;
        }
        for i in 0..left.len() {
            let g = db_to_gain(self.db.tick());
            left[i] *= g;
            if stereo {
                right[i] *= g;
            }
        }
    }
}

pub fn db_to_gain(db: f32) -> f32 {
    10f32.powf(db / 20.0)
}
