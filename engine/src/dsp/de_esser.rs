//! Split-band de-esser, after the EQ: the vocal is split at the set frequency by an 8th-order
//! Linkwitz-Riley crossover (a 4th-order Butterworth twice per side, 48 dB/octave), and only the
//! upper band is turned down, by as much as its peak goes over the threshold and never more than
//! the range. The two bands of a Linkwitz-Riley split are in phase and sum to an all-pass, so
//! while nothing is over the threshold the de-esser changes no frequency's level, only its phase.
//! The steep split is what lets the reduction be the set range right from a quarter-octave above
//! the frequency (a 24 dB/octave split still leaks 30 % of the band there, and the range falls
//! short by 2 dB), without dulling the presence region below it.
//!
//! The detector is the upper band's peak, linked across channels. Its envelope, and the gain it
//! asks for, are computed once per control period from the samples of the period before and
//! glide linearly across the next: the gain lags by one period (0.7 ms at 44.1 kHz), far shorter
//! than a sibilant (50–200 ms), and the output does not depend on how a host cuts its blocks.
//! The envelope rises at once and falls with [`RELEASE_SECONDS`], fast enough that the vowel after
//! an "s" is not dulled.

use super::biquad::{Svf, SvfState};
use super::chain::CONTROL;
use super::processor::{Block, Change, Processor};
use super::smoother::{Ramp, SMOOTH_SECONDS, SWITCH_SECONDS, Smoothed};
use crate::params::{MixParams, ParamId};

/// The detector's release time constant.
pub const RELEASE_SECONDS: f32 = 0.060;
/// The Qs of a 4th-order Butterworth's two sections: 1 / (2 cos(π/8)) and 1 / (2 cos(3π/8)).
const BUTTERWORTH4_Q: [f64; 2] = [0.541_196_100_146_197, 1.306_562_964_876_376_6];

#[derive(Clone, Debug)]
pub struct DeEsser {
    sample_rate: f32,
    freq: Smoothed,
    threshold_db: Smoothed,
    range_db: Smoothed,
    /// 1 while listening to the upper band alone (crossfaded, so switching does not click).
    listen: Ramp,
    /// The two Butterworth sections, high-pass form (the low side reads the same states' low
    /// integrators).
    coeffs: [Svf; 2],
    /// Per channel: the first section (both sides), then three more on each side.
    states: [[SvfState; 7]; 2],
    /// Peak of the upper band over the period so far.
    peak: f32,
    envelope: f32,
    release: f32,
    gain_from: f32,
    gain_to: f32,
    /// Samples into the current control period.
    pos: u32,
    meter_db: f32,
}

impl Default for DeEsser {
    fn default() -> Self {
        Self::new()
    }
}

impl DeEsser {
    pub fn new() -> Self {
        let p = MixParams::default();
        DeEsser {
            sample_rate: 48_000.0,
            freq: Smoothed::logarithmic(p.get(ParamId::DeessFreq)),
            threshold_db: Smoothed::linear(p.get(ParamId::DeessThreshold)),
            range_db: Smoothed::linear(p.get(ParamId::DeessRange)),
            listen: Ramp::new(0.0),
            coeffs: [Svf::default(); 2],
            states: Default::default(),
            peak: 0.0,
            envelope: 0.0,
            release: 0.0,
            gain_from: 1.0,
            gain_to: 1.0,
            pos: 0,
            meter_db: 0.0,
        }
    }

    fn update_coeffs(&mut self) {
        let nyquist_safe = (self.sample_rate * 0.45) as f64;
        let f = (self.freq.value() as f64).min(nyquist_safe);
        self.coeffs = BUTTERWORTH4_Q.map(|q| Svf::high_pass(f, q, self.sample_rate as f64));
    }

    /// Where one of the de-esser's parameters has got to (the switch is the chain's).
    pub fn current(&self, id: ParamId) -> Option<f32> {
        match id {
            ParamId::DeessFreq => Some(self.freq.value()),
            ParamId::DeessThreshold => Some(self.threshold_db.value()),
            ParamId::DeessRange => Some(self.range_db.value()),
            ParamId::DeessListen => Some(self.listen.value()),
            _ => None,
        }
    }

    /// The detector's envelope (the upper band's peak, falling with the release), dBFS.
    pub fn envelope_db(&self) -> f32 {
        20.0 * self.envelope.max(1e-12).log10()
    }

    /// The reduction now, dB (≤ 0).
    pub fn gain_reduction_db(&self) -> f32 {
        20.0 * self.gain_to.log10()
    }

    /// Most reduction since the last call, dB (≤ 0): for a meter.
    pub fn take_meter_db(&mut self) -> f32 {
        std::mem::take(&mut self.meter_db)
    }

    /// At the start of a control period: the envelope takes in the last period's peak, the
    /// parameters move on, and the gain for this period is decided.
    fn start_period(&mut self) {
        self.envelope = self.peak.max(self.envelope * self.release);
        self.peak = 0.0;
        if self.freq.is_moving() {
            self.freq.advance(CONTROL as u32);
            self.update_coeffs();
        }
        self.threshold_db.advance(CONTROL as u32);
        self.range_db.advance(CONTROL as u32);
        let level_db = 20.0 * self.envelope.max(1e-12).log10();
        let reduction = (level_db - self.threshold_db.value()).clamp(0.0, self.range_db.value());
        self.gain_from = self.gain_to;
        self.gain_to = 10f32.powf(-reduction / 20.0);
        self.meter_db = self.meter_db.min(-reduction);
        self.pos = 0;
    }
}

impl Processor for DeEsser {
    fn prepare(&mut self, sample_rate: f32) {
        self.sample_rate = sample_rate;
        for s in [&mut self.freq, &mut self.threshold_db, &mut self.range_db] {
            s.set_time(SMOOTH_SECONDS, sample_rate);
        }
        self.listen.set_time(SWITCH_SECONDS, sample_rate);
        self.release = (-(CONTROL as f32) / (RELEASE_SECONDS * sample_rate)).exp();
        self.update_coeffs();
        self.reset();
    }

    /// Also lands every glide at its target: the chain resets a switched-out de-esser, which
    /// then comes back with its settings as they are now.
    fn reset(&mut self) {
        if self.freq.is_moving() {
            self.freq.jump(self.freq.target());
            self.update_coeffs();
        }
        for s in [&mut self.threshold_db, &mut self.range_db] {
            if s.is_moving() {
                s.jump(s.target());
            }
        }
        if self.listen.is_moving() {
            self.listen.jump(self.listen.target());
        }
        self.states = Default::default();
        self.peak = 0.0;
        self.envelope = 0.0;
        self.gain_from = 1.0;
        self.gain_to = 1.0;
        self.pos = 0;
    }

    fn set_params(&mut self, p: &MixParams, change: Change) {
        if self.freq.set(p.get(ParamId::DeessFreq), change) && change == Change::Immediate {
            self.update_coeffs();
        }
        self.threshold_db
            .set(p.get(ParamId::DeessThreshold), change);
        self.range_db.set(p.get(ParamId::DeessRange), change);
        let listen = if p.on(ParamId::DeessListen) { 1.0 } else { 0.0 };
        self.listen.set(listen, change);
    }

    fn process(&mut self, block: Block<'_>) {
        if block.tick {
            self.start_period();
        }
        let stereo = block.is_stereo();
        let Block { left, right, .. } = block;
        let [a, b] = self.coeffs;
        let step = (self.gain_to - self.gain_from) / CONTROL as f32;
        let listening = self.listen.is_moving() || self.listen.value() > 0.0;
        let channels = if stereo { 2 } else { 1 };
        for i in 0..left.len() {
            self.pos += 1;
            let g = self.gain_from + step * self.pos.min(CONTROL as u32) as f32;
            let m = if listening { self.listen.tick() } else { 0.0 };
            for (ch, st) in self.states.iter_mut().enumerate().take(channels) {
                let x = if ch == 0 { left[i] } else { right[i] } as f64;
                let (h, l) = st[0].tick_split(&a, x);
                let h = st[1].tick_split(&b, h).0;
                let h = st[2].tick_split(&a, h).0;
                let high = st[3].tick_split(&b, h).0;
                let l = st[4].tick_split(&b, l).1;
                let l = st[5].tick_split(&a, l).1;
                let low = st[6].tick_split(&b, l).1;
                let (high, low) = (high as f32, low as f32);
                self.peak = self.peak.max(high.abs());
                let y = low * (1.0 - m) + high * (g * (1.0 - m) + m);
                if ch == 0 {
                    left[i] = y;
                } else {
                    right[i] = y;
                }
            }
        }
    }
}

/// The detector's envelope (dBFS) at every control period of a mono `signal` split at `freq_hz`:
/// what the de-esser would compare with its threshold. For the assistant, which measures a
/// vocal's sibilance with the very detector that will act on it.
pub fn envelope_db(signal: &[f32], sample_rate: f32, freq_hz: f32) -> Vec<f32> {
    let mut p = MixParams::default();
    p.set(ParamId::DeessFreq, freq_hz);
    p.set(ParamId::DeessRange, 0.0);
    let mut d = DeEsser::new();
    d.prepare(sample_rate);
    d.set_params(&p, Change::Immediate);
    let mut out = Vec::with_capacity(signal.len() / CONTROL + 1);
    let mut scratch = [0.0f32; CONTROL];
    let mut unused = [0.0f32; CONTROL];
    for period in signal.chunks(CONTROL) {
        let n = period.len();
        scratch[..n].copy_from_slice(period);
        d.process(Block::mono(&mut scratch[..n], &mut unused[..n], true));
        out.push(d.envelope_db());
    }
    out
}
