//! Nine RBJ peaking bands at the octave centres (as IEM MultiEQ's peak filter) and a 12 dB/octave
//! high-pass. Coefficients are recomputed only while a gain, Q or frequency glides; a band at 0 dB
//! whose memory has died away is skipped entirely (a peaking filter at 0 dB is the identity).

use super::biquad::{Coeffs, State};
use super::smoother::{Ramp, SMOOTH_SECONDS, SWITCH_SECONDS, Smoothed};
use crate::params::{EQ_BANDS, MixParams, ParamId};

/// Bands above this fraction of the sample rate are bypassed: the cookbook peak cramps there.
const MAX_FREQ_RATIO: f32 = 0.45;
const HIGH_PASS_Q: f64 = std::f64::consts::FRAC_1_SQRT_2;

#[derive(Clone, Debug)]
struct Band {
    freq: f32,
    usable: bool,
    gain_db: Smoothed,
    q: Smoothed,
    coeffs: Coeffs,
    dirty: bool,
    state: [State; 2],
}

#[derive(Clone, Debug)]
pub struct Equalizer {
    sample_rate: f32,
    bands: Vec<Band>,
    hp_freq: Smoothed,
    hp_mix: Ramp,
    hp_coeffs: Coeffs,
    hp_dirty: bool,
    hp_state: [State; 2],
    scratch: Vec<f32>,
}

impl Equalizer {
    pub fn new(max_chunk: usize) -> Self {
        let d = MixParams::default();
        let bands = EQ_BANDS
            .iter()
            .map(|&(freq, g, q)| Band {
                freq,
                usable: true,
                gain_db: Smoothed::linear(d.get(g)),
                q: Smoothed::logarithmic(d.get(q)),
                coeffs: Coeffs::IDENTITY,
                dirty: true,
                state: [State::default(); 2],
            })
            .collect();
        Equalizer {
            sample_rate: 48_000.0,
            bands,
            hp_freq: Smoothed::logarithmic(d.get(ParamId::EqHighpassFreq)),
            hp_mix: Ramp::new(if d.on(ParamId::EqHighpassOn) {
                1.0
            } else {
                0.0
            }),
            hp_coeffs: Coeffs::IDENTITY,
            hp_dirty: true,
            hp_state: [State::default(); 2],
            scratch: vec![0.0; 2 * max_chunk],
        }
    }

    pub fn prepare(&mut self, sample_rate: f32) {
        self.sample_rate = sample_rate;
        for b in &mut self.bands {
            b.usable = b.freq < MAX_FREQ_RATIO * sample_rate;
            b.gain_db.set_time(SMOOTH_SECONDS, sample_rate);
            b.q.set_time(SMOOTH_SECONDS, sample_rate);
            b.dirty = true;
        }
        self.hp_freq.set_time(SMOOTH_SECONDS, sample_rate);
        self.hp_mix.set_time(SWITCH_SECONDS, sample_rate);
        self.hp_dirty = true;
        self.reset();
    }

    pub fn reset(&mut self) {
        for b in &mut self.bands {
            b.state = [State::default(); 2];
        }
        self.hp_state = [State::default(); 2];
    }

    pub fn set_params(&mut self, p: &MixParams, immediate: bool) {
        for (b, &(_, g, q)) in self.bands.iter_mut().zip(EQ_BANDS.iter()) {
            for (s, id) in [(&mut b.gain_db, g), (&mut b.q, q)] {
                if s.target() != p.get(id) {
                    b.dirty = true;
                }
                if immediate {
                    s.jump(p.get(id))
                } else {
                    s.set_target(p.get(id))
                }
            }
        }
        let f = p.get(ParamId::EqHighpassFreq);
        self.hp_dirty |= self.hp_freq.target() != f;
        let on = if p.on(ParamId::EqHighpassOn) {
            1.0
        } else {
            0.0
        };
        if immediate {
            self.hp_freq.jump(f);
            self.hp_mix.jump(on);
        } else {
            self.hp_freq.set_target(f);
            self.hp_mix.set_target(on);
        }
    }

    /// The value a parameter has reached (for tests and meters).
    pub fn current(&self, id: ParamId) -> Option<f32> {
        if let Some(i) = EQ_BANDS.iter().position(|b| b.1 == id) {
            return Some(self.bands[i].gain_db.value());
        }
        if let Some(i) = EQ_BANDS.iter().position(|b| b.2 == id) {
            return Some(self.bands[i].q.value());
        }
        match id {
            ParamId::EqHighpassFreq => Some(self.hp_freq.value()),
            ParamId::EqHighpassOn => Some(self.hp_mix.value()),
            _ => None,
        }
    }

    /// Processes one control chunk in place. `r` is ignored for a mono signal.
    pub fn process(&mut self, l: &mut [f32], r: &mut [f32], stereo: bool) {
        let n = l.len();
        let sr = self.sample_rate as f64;
        // Bands that do something this chunk, with their state copied out so the per-sample
        // cascade runs on locals.
        let mut active: [(Coeffs, State, State, usize); 9] =
            [(Coeffs::IDENTITY, State::default(), State::default(), 0); 9];
        let mut count = 0;
        for (k, b) in self.bands.iter_mut().enumerate() {
            if !b.usable {
                continue;
            }
            let moving = b.gain_db.is_moving() || b.q.is_moving();
            if moving || b.dirty {
                b.coeffs = Coeffs::peaking(
                    b.freq as f64,
                    b.q.value() as f64,
                    b.gain_db.value() as f64,
                    sr,
                );
                b.dirty = false;
            }
            b.gain_db.advance(n as u32);
            b.q.advance(n as u32);
            let idle = !moving && b.gain_db.value() == 0.0 && b.state.iter().all(State::is_quiet);
            if idle {
                b.state = [State::default(); 2];
                continue;
            }
            active[count] = (b.coeffs, b.state[0], b.state[1], k);
            count += 1;
        }
        let active = &mut active[..count];
        if stereo {
            for (xl, xr) in l.iter_mut().zip(r.iter_mut()) {
                let (mut vl, mut vr) = (*xl, *xr);
                for (c, sl, sr, _) in active.iter_mut() {
                    vl = sl.tick(c, vl);
                    vr = sr.tick(c, vr);
                }
                *xl = vl;
                *xr = vr;
            }
        } else {
            for x in l.iter_mut() {
                let mut v = *x;
                for (c, s, _, _) in active.iter_mut() {
                    v = s.tick(c, v);
                }
                *x = v;
            }
        }
        for (_, sl, sr, k) in active.iter() {
            self.bands[*k].state = [*sl, *sr];
        }
        self.high_pass(l, r, stereo);
    }

    fn high_pass(&mut self, l: &mut [f32], r: &mut [f32], stereo: bool) {
        let n = l.len();
        if !self.hp_mix.is_moving() && self.hp_mix.value() == 0.0 {
            self.hp_state = [State::default(); 2];
            self.hp_freq.advance(n as u32);
            return;
        }
        if self.hp_freq.is_moving() || self.hp_dirty {
            self.hp_coeffs = Coeffs::high_pass(
                self.hp_freq.value() as f64,
                HIGH_PASS_Q,
                self.sample_rate as f64,
            );
            self.hp_dirty = false;
        }
        self.hp_freq.advance(n as u32);
        if !self.hp_mix.is_moving() {
            self.hp_state[0].process(&self.hp_coeffs, l);
            if stereo {
                self.hp_state[1].process(&self.hp_coeffs, r);
            }
            return;
        }
        // Switching on or off: crossfade between the plain and the filtered signal.
        let half = self.scratch.len() / 2;
        let (dry_l, dry_r) = self.scratch.split_at_mut(half);
        dry_l[..n].copy_from_slice(l);
        self.hp_state[0].process(&self.hp_coeffs, l);
        if stereo {
            dry_r[..n].copy_from_slice(r);
            self.hp_state[1].process(&self.hp_coeffs, r);
        }
        for i in 0..n {
            let m = self.hp_mix.next();
            l[i] = dry_l[i] + m * (l[i] - dry_l[i]);
            if stereo {
                r[i] = dry_r[i] + m * (r[i] - dry_r[i]);
            }
        }
    }
}
