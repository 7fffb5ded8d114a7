//! Second-order sections: the RBJ Audio-EQ-Cookbook designs and a transposed direct form II filter.
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

    /// Peaking EQ: `gain_db` at `freq`, bandwidth set by `q`.
    pub fn peaking(freq: f64, q: f64, gain_db: f64, sample_rate: f64) -> Coeffs {
        let a = 10f64.powf(gain_db / 40.0);
        let (cos, sin) = Self::omega(freq, sample_rate);
        let alpha = sin / (2.0 * q);
        Self::normalised(
            [1.0 + alpha * a, -2.0 * cos, 1.0 - alpha * a],
            [1.0 + alpha / a, -2.0 * cos, 1.0 - alpha / a],
        )
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

    /// Second-order high-pass (12 dB/octave).
    pub fn high_pass(freq: f64, q: f64, sample_rate: f64) -> Coeffs {
        let (cos, sin) = Self::omega(freq, sample_rate);
        let alpha = sin / (2.0 * q);
        Self::normalised(
            [(1.0 + cos) / 2.0, -(1.0 + cos), (1.0 + cos) / 2.0],
            [1.0 + alpha, -2.0 * cos, 1.0 - alpha],
        )
    }

    /// Multiplies the numerator: the same filter followed by a gain.
    pub fn scaled(self, g: f64) -> Coeffs {
        Coeffs {
            b0: self.b0 * g,
            b1: self.b1 * g,
            b2: self.b2 * g,
            ..self
        }
    }
}

/// Filter memory of one channel.
#[derive(Clone, Copy, Debug, Default)]
pub struct State {
    pub s1: f64,
    pub s2: f64,
}

impl State {
    #[inline]
    pub fn tick(&mut self, c: &Coeffs, x: f32) -> f32 {
        let x = x as f64;
        let y = c.b0 * x + self.s1;
        self.s1 = c.b1 * x - c.a1 * y + self.s2;
        self.s2 = c.b2 * x - c.a2 * y;
        y as f32
    }

    pub fn process(&mut self, c: &Coeffs, buf: &mut [f32]) {
        for x in buf {
            *x = self.tick(c, *x);
        }
    }

    /// Whether the memory has died away (what is left is far below audibility).
    pub fn is_quiet(&self) -> bool {
        self.s1.abs() < 1e-9 && self.s2.abs() < 1e-9
    }
}
