//! The reverb's tuning: its level calibrated against FdnReverb (the IEM plug-in, measured
//! with `../shared/reference`), the line lengths a room size gives, and the limits that keep
//! shelves and fade-in from stopping the tail.

use super::*;

/// ln(1000): a decay of 60 dB in amplitude terms.
pub(super) const LN_1000: f32 = 6.907_755_4;

/// Tail energy of FdnReverb (64 lines, dry/wet 1, flat decay), dB relative to the direct sound's,
/// measured at 48 kHz (it does not depend on the rate) over [`IEM_ROOM_SIZES`] × [`IEM_TIMES`].
pub(super) const IEM_ROOM_SIZES: [f32; 10] =
    [1.0, 2.0, 3.0, 5.0, 7.0, 10.0, 14.54, 20.0, 25.0, 30.0];
pub(super) const IEM_TIMES: [f32; 6] = [0.2, 0.5, 1.0, 2.0, 4.0, 8.0];
pub(super) const IEM_TAIL_DB: [[f32; 6]; 10] = [
    [-6.06, -1.96, 1.24, 4.45, 7.62, 10.73],
    [-6.42, -2.47, 0.71, 3.92, 7.10, 10.23],
    [-7.00, -3.29, -0.22, 2.96, 6.14, 9.29],
    [-8.24, -5.03, -2.14, 0.95, 4.11, 7.27],
    [-9.01, -6.27, -3.63, -0.69, 2.43, 5.59],
    [-10.16, -8.25, -6.05, -3.31, -0.28, 2.88],
    [-10.59, -9.11, -7.30, -4.87, -2.01, 1.06],
    [-11.25, -10.03, -8.59, -6.48, -3.83, -0.85],
    [-11.36, -10.31, -9.10, -7.24, -4.76, -1.87],
    [-11.71, -10.70, -9.64, -8.01, -5.72, -2.94],
];

/// FdnReverb's tail energy (dB) at room size `rs` and reverb time `rt`: bilinear in (room size,
/// log reverb time), extrapolated linearly past the measured times.
pub fn iem_tail_energy_db(rs: f32, rt: f32) -> f32 {
    fn bracket(grid: &[f32], x: f32) -> (usize, f32) {
        let i = grid.partition_point(|&g| g <= x).clamp(1, grid.len() - 1) - 1;
        (i, (x - grid[i]) / (grid[i + 1] - grid[i]))
    }
    let rs = rs.clamp(IEM_ROOM_SIZES[0], IEM_ROOM_SIZES[9]);
    let lt: [f32; 6] = IEM_TIMES.map(f32::ln);
    let (i, u) = bracket(&IEM_ROOM_SIZES, rs);
    let (j, v) = bracket(&lt, rt.max(1e-3).ln());
    let row = |k: usize| IEM_TAIL_DB[k][j] + v * (IEM_TAIL_DB[k][j + 1] - IEM_TAIL_DB[k][j]);
    row(i) + u.clamp(0.0, 1.0) * (row(i + 1) - row(i))
}

/// Mean delay-line length in seconds for a room size.
pub(super) fn mean_delay_seconds(room_size: f32) -> f32 {
    0.002 + 0.0025 * room_size
}
/// Line lengths spread geometrically over this range around the mean.
pub(super) const SPREAD: (f32, f32) = (0.6, 1.4);
/// The fade-in network decays at least 60 dB in `fade / MIN_FADE_RATE`: FdnReverb's own rate
/// `1/fade − 1/RT` until the fade-in time nears three quarters of the reverb time, where FdnReverb
/// goes on to cancel or invert its tail and ours keeps rising over the set time.
pub(super) const MIN_FADE_RATE: f32 = 0.25;
/// Slowest decay we allow any band (dB/s) when boosting shelves would stop the tail dying away.
pub(super) const MIN_DECAY_DB_PER_S: f32 = 0.5;

/// One loop shelf: cutoff (Hz), Q, and extra decay gain (dB per second).
#[derive(Clone, Copy)]
pub(super) struct Shelf {
    pub(super) freq: f64,
    pub(super) q: f64,
    pub(super) db_per_s: f32,
}

/// Largest extra growth (dB/s, positive = slower decay) the two shelves give any frequency, found
/// from the longest line's (`tau` seconds) shelves on a log grid.
pub(super) fn max_boost_db_per_s(low: Shelf, high: Shelf, tau: f32, sr: f64) -> f32 {
    if low.db_per_s <= 0.0 && high.db_per_s <= 0.0 {
        return 0.0;
    }
    let lo = Coeffs::low_shelf(low.freq, low.q, (low.db_per_s * tau) as f64, sr);
    let hi = Coeffs::high_shelf(high.freq, high.q, (high.db_per_s * tau) as f64, sr);
    let steps = 96;
    let worst = (0..=steps)
        .map(|k| {
            let f = 10.0 * (0.45 * sr / 10.0).powf(k as f64 / steps as f64);
            magnitude_db(&lo, f, sr) + magnitude_db(&hi, f, sr)
        })
        .fold(f64::MIN, f64::max);
    (worst / tau as f64) as f32
}

/// Magnitude response of a biquad in dB at `freq`.
pub fn magnitude_db(c: &Coeffs, freq: f64, sr: f64) -> f64 {
    let w = 2.0 * std::f64::consts::PI * freq / sr;
    let (c1, s1, c2, s2) = (w.cos(), w.sin(), (2.0 * w).cos(), (2.0 * w).sin());
    let (b0, b1, b2, a1, a2) = (c.b0, c.b1, c.b2, c.a1, c.a2);
    let nr = b0 + b1 * c1 + b2 * c2;
    let ni = -(b1 * s1 + b2 * s2);
    let dr = 1.0 + a1 * c1 + a2 * c2;
    let di = -(a1 * s1 + a2 * s2);
    10.0 * ((nr * nr + ni * ni) / (dr * dr + di * di)).log10()
}
