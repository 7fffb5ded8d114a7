//! Second-order sections: the RBJ Audio-EQ-Cookbook shelves in transposed direct form II (the
//! reverb's loop filters), and the trapezoidal state-variable filter for the EQ.
//!
//! The EQ's bands glide whenever a user or the assistant moves them. A direct-form biquad whose
//! coefficients change mid-signal throws a transient from its state, which is audible as a zipper;
//! the trapezoidal SVF (A. Simper, "Linear trapezoidal integrated SVF", Cytomic 2013) keeps its
//! state meaningful under modulation. Its bell and high-pass are the bilinear transforms, prewarped
//! at the centre, of the same analog prototypes as the cookbook's peaking EQ and high-pass, so the
//! magnitude responses are the cookbook's.
//!
//! Coefficients and memory are f64: with f32 coefficients a 63 Hz band at 96 kHz is off by 0.07 dB,
//! because its poles sit too close to z = 1 for f32 to place them. The EQ's per-sample cascade is
//! scalar, where f64 costs the same as f32. The reverb's loop filters, vectorised across lines,
//! take f32 copies (their gains are fractions of a dB, far from that precision limit).
//! Denormals are not handled here: the chain runs with flush-to-zero set.

use std::f64::consts::PI;

/// Normalised coefficients (a0 = 1).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Coeffs {
    pub b0: f64,
    pub b1: f64,
    pub b2: f64,
    pub a1: f64,
    pub a2: f64,
}

impl Coeffs {
    pub const IDENTITY: Coeffs = Coeffs {
        b0: 1.0,
        b1: 0.0,
        b2: 0.0,
        a1: 0.0,
        a2: 0.0,
    };

    fn normalised(b: [f64; 3], a: [f64; 3]) -> Coeffs {
        let inv = 1.0 / a[0];
        Coeffs {
            b0: b[0] * inv,
            b1: b[1] * inv,
            b2: b[2] * inv,
            a1: a[1] * inv,
            a2: a[2] * inv,
        }
    }

    fn omega(freq: f64, sample_rate: f64) -> (f64, f64) {
        let w0 = 2.0 * PI * freq / sample_rate;
        (w0.cos(), w0.sin())
    }

    /// Low shelf: `gain_db` below `freq`, unity above.
    pub fn low_shelf(freq: f64, q: f64, gain_db: f64, sample_rate: f64) -> Coeffs {
        let a = 10f64.powf(gain_db / 40.0);
        let (cos, sin) = Self::omega(freq, sample_rate);
        let beta = sin * a.sqrt() / q;
        Self::normalised(
            [
                a * ((a + 1.0) - (a - 1.0) * cos + beta),
                2.0 * a * ((a - 1.0) - (a + 1.0) * cos),
                a * ((a + 1.0) - (a - 1.0) * cos - beta),
            ],
            [
                (a + 1.0) + (a - 1.0) * cos + beta,
                -2.0 * ((a - 1.0) + (a + 1.0) * cos),
                (a + 1.0) + (a - 1.0) * cos - beta,
            ],
        )
    }

    /// High shelf: `gain_db` above `freq`, unity below.
    pub fn high_shelf(freq: f64, q: f64, gain_db: f64, sample_rate: f64) -> Coeffs {
        let a = 10f64.powf(gain_db / 40.0);
        let (cos, sin) = Self::omega(freq, sample_rate);
        let beta = sin * a.sqrt() / q;
        Self::normalised(
            [
                a * ((a + 1.0) + (a - 1.0) * cos + beta),
                -2.0 * a * ((a - 1.0) + (a + 1.0) * cos),
                a * ((a + 1.0) + (a - 1.0) * cos - beta),
            ],
            [
                (a + 1.0) - (a - 1.0) * cos + beta,
                2.0 * ((a - 1.0) - (a + 1.0) * cos),
                (a + 1.0) - (a - 1.0) * cos - beta,
            ],
        )
    }
}

/// Trapezoidal state-variable filter coefficients: output = m0·x + m1·band + m2·low.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct Svf {
    a1: f64,
    a2: f64,
    a3: f64,
    m0: f64,
    m1: f64,
    m2: f64,
}

impl Svf {
    fn new(freq: f64, k: f64, sample_rate: f64, m: [f64; 3]) -> Svf {
        let g = (PI * freq / sample_rate).tan();
        let a1 = 1.0 / (1.0 + g * (g + k));
        let a2 = g * a1;
        Svf {
            a1,
            a2,
            a3: g * a2,
            m0: m[0],
            m1: m[1],
            m2: m[2],
        }
    }

    /// Bell (peaking EQ): `gain_db` at `freq`; `q` as in the cookbook's peaking EQ.
    pub fn bell(freq: f64, q: f64, gain_db: f64, sample_rate: f64) -> Svf {
        let a = 10f64.powf(gain_db / 40.0);
        let k = 1.0 / (q * a);
        Svf::new(freq, k, sample_rate, [1.0, k * (a * a - 1.0), 0.0])
    }

    /// Second-order high-pass.
    pub fn high_pass(freq: f64, q: f64, sample_rate: f64) -> Svf {
        let k = 1.0 / q;
        Svf::new(freq, k, sample_rate, [1.0, -k, -1.0])
    }

    /// The step that takes `self` to `to` in `steps` equal increments.
    pub fn step_towards(&self, to: &Svf, steps: usize) -> Svf {
        let n = steps as f64;
        Svf {
            a1: (to.a1 - self.a1) / n,
            a2: (to.a2 - self.a2) / n,
            a3: (to.a3 - self.a3) / n,
            m0: (to.m0 - self.m0) / n,
            m1: (to.m1 - self.m1) / n,
            m2: (to.m2 - self.m2) / n,
        }
    }

    #[inline]
    pub fn add(&mut self, d: &Svf) {
        self.a1 += d.a1;
        self.a2 += d.a2;
        self.a3 += d.a3;
        self.m0 += d.m0;
        self.m1 += d.m1;
        self.m2 += d.m2;
    }
}

/// SVF coefficients that glide: recomputed once per control tick, then approached in equal
/// per-sample steps over the next period, so no coefficient ever jumps (a jump in the output mix
/// multiplies the filter's memory into an audible zipper).
#[derive(Clone, Copy, Debug, Default)]
pub struct GlidingSvf {
    pub now: Svf,
    target: Svf,
    step: Svf,
    gliding: bool,
}

impl GlidingSvf {
    pub fn new(c: Svf) -> Self {
        GlidingSvf {
            now: c,
            target: c,
            step: Svf::default(),
            gliding: false,
        }
    }

    /// At a control tick: arrive at the previous target exactly, then head for `to` over
    /// `steps` samples (or jump there when `immediate`).
    pub fn retarget(&mut self, to: Svf, steps: usize, immediate: bool) {
        self.now = self.target;
        if immediate || to == self.now {
            self.now = to;
            self.target = to;
            self.gliding = false;
        } else {
            self.step = self.now.step_towards(&to, steps);
            self.target = to;
            self.gliding = true;
        }
    }

    /// One sample on.
    #[inline]
    pub fn advance(&mut self) {
        if self.gliding {
            self.now.add(&self.step);
        }
    }

    pub fn is_gliding(&self) -> bool {
        self.gliding
    }

    /// At a control tick: whether the glide towards the target has arrived.
    pub fn settle(&mut self) {
        if self.gliding {
            self.now = self.target;
            self.gliding = false;
        }
    }
}

/// The two integrator states of one channel.
#[derive(Clone, Copy, Debug, Default)]
pub struct SvfState {
    ic1: f64,
    ic2: f64,
}

impl SvfState {
    /// The state of a filter that has long been fed the constant `x`: its low-pass integrator
    /// holds `x`, its band-pass one nothing.
    pub fn settled(x: f64) -> Self {
        SvfState { ic1: 0.0, ic2: x }
    }

    #[inline]
    pub fn tick(&mut self, c: &Svf, x: f32) -> f32 {
        let v0 = x as f64;
        let v3 = v0 - self.ic2;
        let v1 = c.a1 * self.ic1 + c.a2 * v3;
        let v2 = self.ic2 + c.a2 * self.ic1 + c.a3 * v3;
        self.ic1 = 2.0 * v1 - self.ic1;
        self.ic2 = 2.0 * v2 - self.ic2;
        (c.m0 * v0 + c.m1 * v1 + c.m2 * v2) as f32
    }
}

/// The states of a left/right pair run with the same coefficients, written lane-wise so both
/// channels share one two-lane f64 operation.
#[derive(Clone, Copy, Debug, Default)]
pub struct SvfPair {
    ic1: [f64; 2],
    ic2: [f64; 2],
}

impl SvfPair {
    #[inline(always)]
    pub fn tick(&mut self, c: &Svf, x: [f64; 2]) -> [f64; 2] {
        let mut y = [0.0; 2];
        for k in 0..2 {
            let v3 = x[k] - self.ic2[k];
            let v1 = c.a1 * self.ic1[k] + c.a2 * v3;
            let v2 = self.ic2[k] + c.a2 * self.ic1[k] + c.a3 * v3;
            self.ic1[k] = 2.0 * v1 - self.ic1[k];
            self.ic2[k] = 2.0 * v2 - self.ic2[k];
            y[k] = c.m0 * x[k] + c.m1 * v1 + c.m2 * v2;
        }
        y
    }

    /// The left lane alone, for a mono signal.
    #[inline(always)]
    pub fn tick_left(&mut self, c: &Svf, x: f64) -> f64 {
        let v3 = x - self.ic2[0];
        let v1 = c.a1 * self.ic1[0] + c.a2 * v3;
        let v2 = self.ic2[0] + c.a2 * self.ic1[0] + c.a3 * v3;
        self.ic1[0] = 2.0 * v1 - self.ic1[0];
        self.ic2[0] = 2.0 * v2 - self.ic2[0];
        c.m0 * x + c.m1 * v1 + c.m2 * v2
    }
}
