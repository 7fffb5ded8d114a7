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

use super::processor::CONTROL;
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
    /// The two Butterworth sections, each for the four lanes.
    coeffs: [Section4; 2],
    /// The four sections in series (Q1, Q2, Q1, Q2), lanes [left high, right high, left low,
    /// right low].
    states: [State4; 4],
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
            coeffs: [Section4::default(); 2],
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
        self.coeffs = BUTTERWORTH4_Q.map(|q| Section4::new(f, q, self.sample_rate as f64));
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
        #[cfg(target_arch = "x86_64")]
        if super::cpu::avx2_fma() {
            // SAFETY: the CPU has the features the function is compiled for.
            unsafe { self.run_fma(left, right, stereo) };
            return;
        }
        self.run::<false>(left, right, stereo);
    }
}

impl DeEsser {
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    fn run_fma(&mut self, left: &mut [f32], right: &mut [f32], stereo: bool) {
        self.run::<true>(left, right, stereo);
    }

    /// The piece through the crossover; `FUSED` with fused multiply-adds (only where the CPU has
    /// them: elsewhere they are slow library calls).
    #[inline(always)]
    fn run<const FUSED: bool>(&mut self, left: &mut [f32], right: &mut [f32], stereo: bool) {
        let [q1, q2] = self.coeffs;
        let step = (self.gain_to - self.gain_from) / CONTROL as f32;
        let listening = self.listen.is_moving() || self.listen.value() > 0.0;
        // the filters' states in registers for the piece
        let [mut s1, mut s2, mut s3, mut s4] = self.states;
        let mut peaks = F4::splat(0.0);
        for i in 0..left.len() {
            self.pos += 1;
            let g = self.gain_from + step * self.pos.min(CONTROL as u32) as f32;
            let m = if listening { self.listen.tick() } else { 0.0 };
            let (l, r) = (left[i], if stereo { right[i] } else { left[i] });
            let x = F4::new([l, r, l, r]);
            let y = s4.tick::<FUSED>(
                &q2,
                s3.tick::<FUSED>(&q1, s2.tick::<FUSED>(&q2, s1.tick::<FUSED>(&q1, x))),
            );
            // (a mono vocal's right lanes repeat its left ones)
            peaks = peaks.max(y.abs());
            let (keep_low, keep_high) = (1.0 - m, g * (1.0 - m) + m);
            let (out_l, out_r) = (y * F4::pairs(keep_high, keep_low)).pair_sums();
            left[i] = out_l;
            if stereo {
                right[i] = out_r;
            }
        }
        self.states = [s1, s2, s3, s4];
        let [high_l, high_r, _, _] = peaks.to_array();
        self.peak = self.peak.max(high_l).max(high_r);
    }
}

/// One Butterworth section of the crossover for four lanes at once: the two channels' high sides
/// and their low sides. The lanes share the section's poles and differ only in their zeros, so
/// the whole crossover is four four-wide steps a sample. Transposed direct form II in single
/// precision: five multiplies and four adds a step, half a state-variable filter's, which is what
/// keeps the de-esser near the chain's CPU budget. Both are sound here: the split sits at 2 kHz
/// or above, far from the low corners where direct forms need double precision, and its frequency
/// moves rarely and glides in small steps, where a direct form's modulation noise stays buried.
#[derive(Clone, Copy, Debug)]
struct Section4 {
    b0: F4,
    b1: F4,
    b2: F4,
    a1: F4,
    a2: F4,
}

impl Default for Section4 {
    fn default() -> Self {
        let zero = F4::splat(0.0);
        Section4 {
            b0: F4::splat(1.0),
            b1: zero,
            b2: zero,
            a1: zero,
            a2: zero,
        }
    }
}

impl Section4 {
    /// The Audio-EQ-Cookbook's high-pass (lanes 0, 1) and low-pass (lanes 2, 3) at `freq`, `q`.
    fn new(freq: f64, q: f64, sample_rate: f64) -> Self {
        let w0 = 2.0 * std::f64::consts::PI * freq / sample_rate;
        let (cos, alpha) = (w0.cos(), w0.sin() / (2.0 * q));
        let a0 = 1.0 + alpha;
        let high = [(1.0 + cos) / 2.0, -(1.0 + cos), (1.0 + cos) / 2.0];
        let low = [(1.0 - cos) / 2.0, 1.0 - cos, (1.0 - cos) / 2.0];
        let lanes = |j: usize| {
            let (h, l) = ((high[j] / a0) as f32, (low[j] / a0) as f32);
            F4::new([h, h, l, l])
        };
        Section4 {
            b0: lanes(0),
            b1: lanes(1),
            b2: lanes(2),
            a1: F4::splat((-2.0 * cos / a0) as f32),
            a2: F4::splat(((1.0 - alpha) / a0) as f32),
        }
    }
}

#[derive(Clone, Copy, Debug)]
struct State4 {
    s1: F4,
    s2: F4,
}

impl Default for State4 {
    fn default() -> Self {
        State4 {
            s1: F4::splat(0.0),
            s2: F4::splat(0.0),
        }
    }
}

impl State4 {
    #[inline(always)]
    fn tick<const FUSED: bool>(&mut self, c: &Section4, x: F4) -> F4 {
        if FUSED {
            let y = c.b0.mul_add(x, self.s1);
            self.s1 = c.a1.neg_mul_add(y, c.b1.mul_add(x, self.s2));
            self.s2 = c.a2.neg_mul_add(y, c.b2 * x);
            return y;
        }
        let y = c.b0 * x + self.s1;
        self.s1 = c.b1 * x - c.a1 * y + self.s2;
        self.s2 = c.b2 * x - c.a2 * y;
        y
    }
}

/// Four f32 lanes: an SSE register on x86-64 (part of the baseline there), an array elsewhere.
/// Written out because the compiler does not reliably vectorise the four lanes of a recursive
/// filter on its own.
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy, Debug)]
struct F4(std::arch::x86_64::__m128);

#[cfg(target_arch = "x86_64")]
impl F4 {
    #[inline(always)]
    fn splat(v: f32) -> F4 {
        // SAFETY: SSE is part of every x86-64 CPU
        F4(unsafe { std::arch::x86_64::_mm_set1_ps(v) })
    }
    #[inline(always)]
    fn new(v: [f32; 4]) -> F4 {
        // SAFETY: as above; the array is four floats
        F4(unsafe { std::arch::x86_64::_mm_loadu_ps(v.as_ptr()) })
    }
    #[inline(always)]
    fn to_array(self) -> [f32; 4] {
        let mut out = [0.0f32; 4];
        // SAFETY: as above; `out` holds four floats
        unsafe { std::arch::x86_64::_mm_storeu_ps(out.as_mut_ptr(), self.0) };
        out
    }
    /// [high, high, low, low]
    #[inline(always)]
    fn pairs(high: f32, low: f32) -> F4 {
        // SAFETY: as above (the arguments run from the highest lane down)
        F4(unsafe { std::arch::x86_64::_mm_set_ps(low, low, high, high) })
    }
    /// (lane 0 + lane 2, lane 1 + lane 3): each channel's two bands summed.
    #[inline(always)]
    fn pair_sums(self) -> (f32, f32) {
        use std::arch::x86_64::*;
        // SAFETY: as above
        unsafe {
            let s = _mm_add_ps(self.0, _mm_movehl_ps(self.0, self.0));
            (_mm_cvtss_f32(s), _mm_cvtss_f32(_mm_shuffle_ps(s, s, 1)))
        }
    }
    /// self · b + c, fused: only inside a function compiled with FMA.
    #[inline(always)]
    fn mul_add(self, b: F4, c: F4) -> F4 {
        // SAFETY: called only from code compiled for, and run on, CPUs with FMA
        F4(unsafe { std::arch::x86_64::_mm_fmadd_ps(self.0, b.0, c.0) })
    }
    /// c − self · b, fused: as [`F4::mul_add`].
    #[inline(always)]
    fn neg_mul_add(self, b: F4, c: F4) -> F4 {
        // SAFETY: as in `mul_add`
        F4(unsafe { std::arch::x86_64::_mm_fnmadd_ps(self.0, b.0, c.0) })
    }
    #[inline(always)]
    fn abs(self) -> F4 {
        use std::arch::x86_64::*;
        // SAFETY: as above
        F4(unsafe { _mm_andnot_ps(_mm_set1_ps(-0.0), self.0) })
    }
    #[inline(always)]
    fn max(self, o: F4) -> F4 {
        // SAFETY: as above
        F4(unsafe { std::arch::x86_64::_mm_max_ps(self.0, o.0) })
    }
}

#[cfg(target_arch = "x86_64")]
macro_rules! f4_op {
    ($trait:ident, $method:ident, $intrinsic:ident) => {
        impl std::ops::$trait for F4 {
            type Output = F4;
            #[inline(always)]
            fn $method(self, o: F4) -> F4 {
                // SAFETY: SSE is part of every x86-64 CPU
                F4(unsafe { std::arch::x86_64::$intrinsic(self.0, o.0) })
            }
        }
    };
}
#[cfg(target_arch = "x86_64")]
f4_op!(Add, add, _mm_add_ps);
#[cfg(target_arch = "x86_64")]
f4_op!(Sub, sub, _mm_sub_ps);
#[cfg(target_arch = "x86_64")]
f4_op!(Mul, mul, _mm_mul_ps);

#[cfg(not(target_arch = "x86_64"))]
#[derive(Clone, Copy, Debug)]
struct F4([f32; 4]);

#[cfg(not(target_arch = "x86_64"))]
impl F4 {
    fn splat(v: f32) -> F4 {
        F4([v; 4])
    }
    fn new(v: [f32; 4]) -> F4 {
        F4(v)
    }
    fn to_array(self) -> [f32; 4] {
        self.0
    }
    fn pairs(high: f32, low: f32) -> F4 {
        F4([high, high, low, low])
    }
    fn pair_sums(self) -> (f32, f32) {
        (self.0[0] + self.0[2], self.0[1] + self.0[3])
    }
    fn abs(self) -> F4 {
        F4(self.0.map(f32::abs))
    }
    fn mul_add(self, b: F4, c: F4) -> F4 {
        self * b + c
    }
    fn neg_mul_add(self, b: F4, c: F4) -> F4 {
        c - self * b
    }
    fn max(self, o: F4) -> F4 {
        F4(std::array::from_fn(|k| self.0[k].max(o.0[k])))
    }
}

#[cfg(not(target_arch = "x86_64"))]
macro_rules! f4_op {
    ($trait:ident, $method:ident, $op:tt) => {
        impl std::ops::$trait for F4 {
            type Output = F4;
            #[inline(always)]
            fn $method(self, o: F4) -> F4 {
                F4(std::array::from_fn(|k| self.0[k] $op o.0[k]))
            }
        }
    };
}
#[cfg(not(target_arch = "x86_64"))]
f4_op!(Add, add, +);
#[cfg(not(target_arch = "x86_64"))]
f4_op!(Sub, sub, -);
#[cfg(not(target_arch = "x86_64"))]
f4_op!(Mul, mul, *);

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
