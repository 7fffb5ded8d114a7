//! Parameter smoothing: every continuous control glides to a new value along a smoothstep curve.
//!
//! A smoothstep (3x² − 2x³) starts and ends with zero slope, so a gain that glides up ends without
//! the kink a linear or one-pole ramp leaves at full level; that kink is what makes a fast jump
//! audible. The ramp has a fixed length, so a value always arrives within [`SMOOTH_SECONDS`].
//! Ramps count samples since the change, never host blocks, which keeps the output the same for
//! any block size. Whether a change glides or lands at once is decided here alone, by
//! [`Change`], in [`Ramp::set`] and [`Smoothed::set`].

use super::processor::Change;

/// How long a parameter glides after a change.
pub const SMOOTH_SECONDS: f32 = 0.040;
/// How long a switch (bypass, high-pass on/off, FDN size) crossfades.
pub const SWITCH_SECONDS: f32 = 0.020;

#[derive(Clone, Debug)]
pub struct Ramp {
    start: f32,
    target: f32,
    pos: u32,
    len: u32,
}

impl Ramp {
    pub fn new(value: f32) -> Self {
        Ramp {
            start: value,
            target: value,
            pos: 0,
            len: 1,
        }
    }

    /// Sets the ramp length for `seconds` at `sample_rate` (at least one sample).
    pub fn set_time(&mut self, seconds: f32, sample_rate: f32) {
        self.len = ((seconds * sample_rate).round() as u32).max(1);
    }

    fn at(&self, pos: u32) -> f32 {
        if pos >= self.len {
            return self.target;
        }
        let x = pos as f32 / self.len as f32;
        self.start + (self.target - self.start) * (x * x * (3.0 - 2.0 * x))
    }

    pub fn value(&self) -> f32 {
        self.at(self.pos)
    }

    pub fn target(&self) -> f32 {
        self.target
    }

    pub fn is_moving(&self) -> bool {
        self.pos < self.len
    }

    /// Starts a glide from wherever the ramp is now.
    pub fn set_target(&mut self, target: f32) {
        if target == self.target {
            return;
        }
        self.start = self.value();
        self.target = target;
        self.pos = 0;
    }

    /// Moves to `value` at once.
    pub fn jump(&mut self, value: f32) {
        self.start = value;
        self.target = value;
        self.pos = self.len;
    }

    /// Glides to `value` or jumps there, as `change` says.
    pub fn set(&mut self, value: f32, change: Change) {
        match change {
            Change::Glide => self.set_target(value),
            Change::Immediate => self.jump(value),
        }
    }

    /// The value for this sample, then one sample on.
    #[inline]
    pub fn tick(&mut self) -> f32 {
        if self.pos >= self.len {
            return self.target;
        }
        let v = self.at(self.pos);
        self.pos += 1;
        v
    }

    /// Moves `n` samples on and returns the value there.
    pub fn advance(&mut self, n: u32) -> f32 {
        self.pos = self.pos.saturating_add(n).min(self.len);
        self.value()
    }
}

/// `exp` behind a call the optimiser may not hoist: as an intrinsic it counts as free of side
/// effects, and LLVM then computes it before the branch that asks whether it is needed — once per
/// sample for every linear smoother ticked in a loop (measured: a tenth of a compressor pass).
#[inline(never)]
fn exp(v: f32) -> f32 {
    v.exp()
}

/// A ramp over a parameter's own values, gliding in the log domain for logarithmic parameters.
#[derive(Clone, Debug)]
pub struct Smoothed {
    ramp: Ramp,
    log: bool,
    /// The target as given: the log domain's round trip would not return it exactly, and callers
    /// compare targets to tell whether anything changed.
    target: f32,
}

impl Smoothed {
    pub fn linear(value: f32) -> Self {
        Smoothed {
            ramp: Ramp::new(value),
            log: false,
            target: value,
        }
    }

    pub fn logarithmic(value: f32) -> Self {
        Smoothed {
            ramp: Ramp::new(value.max(f32::MIN_POSITIVE).ln()),
            log: true,
            target: value,
        }
    }

    fn domain(&self, v: f32) -> f32 {
        if self.log {
            v.max(f32::MIN_POSITIVE).ln()
        } else {
            v
        }
    }

    #[inline(always)]
    fn plain(&self, v: f32) -> f32 {
        if self.log { exp(v) } else { v }
    }

    pub fn set_time(&mut self, seconds: f32, sample_rate: f32) {
        self.ramp.set_time(seconds, sample_rate);
    }

    pub fn set_target(&mut self, v: f32) {
        let d = self.domain(v);
        self.target = v;
        self.ramp.set_target(d);
    }

    pub fn jump(&mut self, v: f32) {
        let d = self.domain(v);
        self.target = v;
        self.ramp.jump(d);
    }

    /// Glides to `v` or jumps there, as `change` says. Returns whether the target changed.
    pub fn set(&mut self, v: f32, change: Change) -> bool {
        let changed = self.target != v;
        match change {
            Change::Glide => self.set_target(v),
            Change::Immediate => self.jump(v),
        }
        changed
    }

    pub fn value(&self) -> f32 {
        self.plain(self.ramp.value())
    }

    pub fn target(&self) -> f32 {
        self.target
    }

    pub fn is_moving(&self) -> bool {
        self.ramp.is_moving()
    }

    /// Moves `n` samples on (read the value with [`Smoothed::value`] when it is needed: the way
    /// back from the log domain costs an exponential).
    pub fn advance(&mut self, n: u32) {
        self.ramp.advance(n);
    }

    #[inline]
    pub fn tick(&mut self) -> f32 {
        let v = self.ramp.tick();
        self.plain(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_logarithmic_target_reads_back_exactly_as_set() {
        // callers compare targets to see whether a parameter changed; a log round trip that
        // returned 14.539999 for 14.54 would make every unchanged hand-over count as a change
        for v in [0.3f32, 1.7777778, 14.54, 2000.0, 0.01] {
            let mut s = Smoothed::logarithmic(1.0);
            s.set_target(v);
            assert_eq!(s.target(), v);
            s.jump(v);
            assert_eq!(s.target(), v);
        }
    }

    #[test]
    fn ramp_reaches_target_in_its_time_with_flat_ends() {
        let mut r = Ramp::new(0.0);
        r.set_time(0.010, 48_000.0);
        r.set_target(1.0);
        let v: Vec<f32> = (0..600).map(|_| r.tick()).collect();
        assert_eq!(v[0], 0.0);
        assert_eq!(v[480], 1.0);
        assert!(v.windows(2).all(|w| w[1] >= w[0]));
        // zero slope at both ends: the first and last steps are far smaller than the middle one
        let mid = v[241] - v[240];
        assert!(v[1] - v[0] < mid * 0.02 && v[480] - v[479] < mid * 0.02);
    }

    #[test]
    fn retarget_mid_ramp_starts_from_current_value() {
        let mut r = Ramp::new(0.0);
        r.set_time(0.001, 10_000.0);
        r.set_target(10.0);
        r.advance(5);
        let here = r.value();
        r.set_target(-10.0);
        assert_eq!(r.tick(), here);
    }

    #[test]
    fn log_smoothing_passes_the_geometric_mean_halfway() {
        let mut s = Smoothed::logarithmic(100.0);
        s.set_time(0.001, 10_000.0);
        s.set_target(10_000.0);
        s.advance(5);
        let half = s.value();
        assert!((half - 1000.0).abs() < 1.0, "{half}");
    }

    #[test]
    fn set_glides_or_jumps_as_the_change_says_and_reports_a_new_target() {
        let mut s = Smoothed::linear(0.0);
        s.set_time(0.001, 10_000.0);
        assert!(s.set(4.0, Change::Glide));
        assert!(s.is_moving());
        assert_eq!(s.value(), 0.0);
        s.advance(10);
        assert_eq!(s.value(), 4.0);
        assert!(!s.set(4.0, Change::Glide), "the same target is no change");
        assert!(s.set(-2.0, Change::Immediate));
        assert!(!s.is_moving());
        assert_eq!(s.value(), -2.0);
        let mut r = Ramp::new(1.0);
        r.set_time(0.001, 10_000.0);
        r.set(0.0, Change::Glide);
        assert!(r.is_moving());
        r.set(0.5, Change::Immediate);
        assert_eq!((r.is_moving(), r.value()), (false, 0.5));
    }
}
