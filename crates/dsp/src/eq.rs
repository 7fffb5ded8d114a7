//! Nine peaking bands at the octave centres (the cookbook's peaking EQ, as IEM MultiEQ's peak
//! filter, run as trapezoidal SVFs) and a 12 dB/octave high-pass. Coefficients follow gliding
//! values once per control tick; a band resting at 0 dB is skipped (the bell is then exactly the
//! identity) and its memory cleared.

use super::biquad::{GlidingSvf, Svf, SvfPair, SvfState};
use super::processor::CONTROL;
use super::processor::{Block, Change, Processor};
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
    coeffs: GlidingSvf,
    dirty: bool,
    active: bool,
    state: SvfPair,
}

#[derive(Clone, Debug)]
pub struct Equalizer {
    sample_rate: f32,
    bands: Vec<Band>,
    hp_freq: Smoothed,
    hp_mix: Ramp,
    hp_coeffs: GlidingSvf,
    hp_dirty: bool,
    /// The next control tick jumps to the parameters rather than glides (after `prepare` or an
    /// immediate change).
    jump: bool,
    hp_state: [SvfState; 2],
    /// The high-pass is off and has not been running.
    hp_resting: bool,
    scratch: [f32; 2 * CONTROL],
}

impl Default for Equalizer {
    fn default() -> Self {
        Self::new()
    }
}

impl Processor for Equalizer {
    fn prepare(&mut self, sample_rate: f32) {
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
        self.jump = true;
        self.reset();
    }

    fn reset(&mut self) {
        for b in &mut self.bands {
            b.state = SvfPair::default();
        }
        self.hp_state = [SvfState::default(); 2];
    }

    fn set_params(&mut self, p: &MixParams, change: Change) {
        for (b, &(_, g, q)) in self.bands.iter_mut().zip(EQ_BANDS.iter()) {
            b.dirty |= b.gain_db.set(p.get(g), change);
            b.dirty |= b.q.set(p.get(q), change);
        }
        self.hp_dirty |= self.hp_freq.set(p.get(ParamId::EqHighpassFreq), change);
        let on = if p.on(ParamId::EqHighpassOn) {
            1.0
        } else {
            0.0
        };
        self.hp_mix.set(on, change);
        self.jump |= change == Change::Immediate;
    }

    /// `right` is left alone for a mono block.
    fn process(&mut self, block: Block<'_>) {
        let stereo = block.is_stereo();
        let Block {
            left, right, tick, ..
        } = block;
        if tick {
            self.control();
        }
        #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
        if super::cpu::avx2_fma() {
            // SAFETY: the CPU has the features the function is compiled for.
            unsafe { self.run_avx2(left, right, stereo) };
            return;
        }
        self.run(left, right, stereo);
    }
}

impl Equalizer {
    pub fn new() -> Self {
        let d = MixParams::default();
        let bands = EQ_BANDS
            .iter()
            .map(|&(freq, g, q)| Band {
                freq,
                usable: true,
                gain_db: Smoothed::linear(d.get(g)),
                q: Smoothed::logarithmic(d.get(q)),
                coeffs: GlidingSvf::new(Svf::bell(1000.0, 1.0, 0.0, 48_000.0)),
                dirty: true,
                active: false,
                state: SvfPair::default(),
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
            hp_coeffs: GlidingSvf::new(Svf::high_pass(80.0, HIGH_PASS_Q, 48_000.0)),
            hp_dirty: true,
            jump: true,
            hp_state: [SvfState::default(); 2],
            hp_resting: true,
            scratch: [0.0; 2 * CONTROL],
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

    /// Follows gliding values: called once per control tick.
    fn control(&mut self) {
        let sr = self.sample_rate as f64;
        let jump = std::mem::take(&mut self.jump);
        for b in self.bands.iter_mut().filter(|b| b.usable) {
            let moving = b.gain_db.is_moving() || b.q.is_moving();
            if moving || b.dirty {
                let c = Svf::bell(
                    b.freq as f64,
                    b.q.value() as f64,
                    b.gain_db.value() as f64,
                    sr,
                );
                b.coeffs.retarget(c, CONTROL, jump);
                b.dirty = false;
            } else {
                b.coeffs.settle();
            }
            b.gain_db.advance(CONTROL as u32);
            b.q.advance(CONTROL as u32);
            b.active = moving || b.coeffs.is_gliding() || b.gain_db.value() != 0.0;
            if !b.active {
                b.state = SvfPair::default();
            }
        }
        if self.hp_freq.is_moving() || self.hp_dirty {
            let c = Svf::high_pass(self.hp_freq.value() as f64, HIGH_PASS_Q, sr);
            self.hp_coeffs.retarget(c, CONTROL, jump);
            self.hp_dirty = false;
        } else {
            self.hp_coeffs.settle();
        }
        self.hp_freq.advance(CONTROL as u32);
    }

    /// The cascade is a chain of dependent multiply-adds per sample: fused, it is shorter.
    #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
    #[target_feature(enable = "avx2,fma")]
    fn run_avx2(&mut self, l: &mut [f32], r: &mut [f32], stereo: bool) {
        self.run(l, r, stereo);
    }

    #[inline(always)]
    fn run(&mut self, l: &mut [f32], r: &mut [f32], stereo: bool) {
        // Bands that do something, with coefficients and state copied out so the per-sample
        // cascade runs on locals, in f64 from input to output.
        let mut active = [(GlidingSvf::default(), SvfPair::default(), 0usize); 9];
        let mut count = 0;
        for (k, b) in self.bands.iter().enumerate() {
            if b.usable && b.active {
                active[count] = (b.coeffs, b.state, k);
                count += 1;
            }
        }
        let active = &mut active[..count];
        if stereo {
            for (xl, xr) in l.iter_mut().zip(r.iter_mut()) {
                let mut v = [*xl as f64, *xr as f64];
                for (c, s, _) in active.iter_mut() {
                    v = s.tick(&c.now, v);
                    c.advance();
                }
                *xl = v[0] as f32;
                *xr = v[1] as f32;
            }
        } else {
            for x in l.iter_mut() {
                let mut v = *x as f64;
                for (c, s, _) in active.iter_mut() {
                    v = s.tick_left(&c.now, v);
                    c.advance();
                }
                *x = v as f32;
            }
        }
        for (c, s, k) in active.iter() {
            let b = &mut self.bands[*k];
            b.coeffs = *c;
            b.state = *s;
        }
        self.high_pass(l, r, stereo);
    }

    /// The high-pass, crossfaded in and out. While fully off it does not run; switched on, its
    /// low-pass memory starts at the signal's present value, as if it had been listening, so the
    /// fade-in does not carry a start-up transient.
    #[inline(always)]
    fn high_pass(&mut self, l: &mut [f32], r: &mut [f32], stereo: bool) {
        if !self.hp_mix.is_moving() && self.hp_mix.value() == 0.0 {
            self.hp_state = [SvfState::default(); 2];
            self.hp_resting = true;
            return;
        }
        if std::mem::take(&mut self.hp_resting) && self.hp_mix.is_moving() {
            self.hp_state = [
                SvfState::settled(l[0] as f64),
                SvfState::settled(r[0] as f64),
            ];
        }
        if !self.hp_mix.is_moving() {
            // fully on: filter in place
            filter(&mut self.hp_state, &mut self.hp_coeffs, l, r, stereo);
            return;
        }
        // Switching: crossfade between the plain and the filtered signal.
        let n = l.len();
        let (filtered_l, filtered_r) = self.scratch.split_at_mut(CONTROL);
        let (fl, fr) = (&mut filtered_l[..n], &mut filtered_r[..n]);
        fl.copy_from_slice(l);
        fr.copy_from_slice(r);
        filter(&mut self.hp_state, &mut self.hp_coeffs, fl, fr, stereo);
        for i in 0..n {
            let m = self.hp_mix.tick();
            l[i] += m * (fl[i] - l[i]);
            if stereo {
                r[i] += m * (fr[i] - r[i]);
            }
        }
    }
}

/// Runs one SVF over a chunk in place, its coefficients stepping per sample while they glide.
fn filter(
    state: &mut [SvfState; 2],
    c: &mut GlidingSvf,
    l: &mut [f32],
    r: &mut [f32],
    stereo: bool,
) {
    for i in 0..l.len() {
        l[i] = state[0].tick(&c.now, l[i]);
        if stereo {
            r[i] = state[1].tick(&c.now, r[i]);
        }
        c.advance();
    }
}
