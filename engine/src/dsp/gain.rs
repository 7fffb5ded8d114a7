//! The vocal fader: a gain in dB that glides per sample.

use super::smoother::{SMOOTH_SECONDS, Smoothed};

#[derive(Clone, Debug)]
pub struct Gain {
    db: Smoothed,
    linear: f32,
}

impl Gain {
    pub fn new(db: f32) -> Self {
        Gain {
            db: Smoothed::linear(db),
            linear: db_to_gain(db),
        }
    }

    pub fn prepare(&mut self, sample_rate: f32) {
        self.db.set_time(SMOOTH_SECONDS, sample_rate);
    }

    pub fn set_db(&mut self, db: f32, immediate: bool) {
        if immediate {
            self.db.jump(db);
            self.linear = db_to_gain(db);
        } else {
            self.db.set_target(db);
        }
    }

    pub fn current_db(&self) -> f32 {
        self.db.value()
    }

    pub fn process(&mut self, l: &mut [f32], r: &mut [f32], stereo: bool) {
        if !self.db.is_moving() {
            let g = db_to_gain(self.db.value());
            self.linear = g;
            if g == 1.0 {
                return;
            }
            l.iter_mut().for_each(|x| *x *= g);
            if stereo {
                r.iter_mut().for_each(|x| *x *= g);
            }
            return;
        }
        for i in 0..l.len() {
            let g = db_to_gain(self.db.tick());
            l[i] *= g;
            if stereo {
                r[i] *= g;
            }
        }
    }
}

pub fn db_to_gain(db: f32) -> f32 {
    10f32.powf(db / 20.0)
}
