//! Feedback delay network reverb with FdnReverb's controls.
//!
//! N delay lines (16, 32 or 64) of prime lengths scaled by the room size feed back through a
//! normalised Hadamard matrix, applied as a fast Walsh–Hadamard transform (N log N additions, no
//! matrix product). Each line is attenuated so that every path loses 60 dB in the reverb time, and
//! carries a low and a high shelf whose gains are extra decay in dB per second, so a band's decay
//! rate does not depend on the line's length. The mono input enters every line with a ± sign
//! pattern; left and right read the lines through two other, mutually orthogonal patterns, which
//! decorrelates them.
//!
//! Levels follow FdnReverb's meaning (docs/chain.md): dry/wet scales only the tail, the direct
//! sound stays at full level, and the tail's level for a room size and reverb time is calibrated
//! against FdnReverb at 64 lines, measured with `../shared/reference` ([`IEM_TAIL_DB`]), whatever
//! our own FDN size. Fade-in subtracts a second network with the same delays that decays faster,
//! so the tail rises as `1 − e^(−γt)` (FdnReverb's construction); unlike FdnReverb, whose tail
//! collapses or inverts as the fade-in time reaches the reverb time, ours keeps rising over the
//! set time there ([`MIN_FADE_RATE`]).

// The per-sample work runs index loops over parallel per-line arrays (coefficients, states,
// gains): written as iterator zips of four or five arrays they read worse and vectorise the same.
#![allow(clippy::needless_range_loop)]

use super::biquad::Coeffs;
use super::processor::CONTROL;
use super::processor::{Block, Change, Processor};
use super::smoother::{Ramp, SMOOTH_SECONDS, SWITCH_SECONDS, Smoothed};
#[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
use super::transpose::{self, RUN};
use crate::params::{MixParams, ParamId};

pub const MAX_LINES: usize = 64;
/// Below this everything in the delay memory counts as silence (−500 dB).
const MEMORY_SILENCE: f32 = 1e-25;
/// Input below this (−400 dBFS) does not wake a resting reverb.
const INPUT_SILENCE: f32 = 1e-20;

mod network;
mod tuning;

use network::*;
use tuning::*;
pub use tuning::{iem_tail_energy_db, magnitude_db};

#[derive(Clone, Debug)]
pub struct FdnReverb {
    sample_rate: f32,
    primes: Vec<u32>,
    len: usize,
    w: usize,
    lines: usize,
    wanted_lines: usize,
    delays: [u32; MAX_LINES],
    next_delays: [u32; MAX_LINES],
    /// Room size the delays (or the crossfade in progress) stand for.
    room_applied: f32,
    room_target: f32,
    /// 0 → 1 while the lines are read at old and new lengths at once after a room-size change.
    xfade: Ramp,
    xfading: bool,
    rt: Smoothed,
    fade: Smoothed,
    low_cut: Smoothed,
    low_q: Smoothed,
    low_gain: Smoothed,
    high_cut: Smoothed,
    high_q: Smoothed,
    high_gain: Smoothed,
    dry_wet: Ramp,
    /// Calibration of the tail level (see [`iem_tail_energy_db`]).
    norm: Ramp,
    /// Falls to 0 and back while the FDN size changes.
    size_gain: Ramp,
    /// Lets the input into the fade-in network gradually when it starts.
    fader_in: Ramp,
    patterns: Patterns,
    main: Network,
    fader: Network,
    fading: bool,
    dirty: bool,
    /// The next coefficient update jumps rather than glides (after `prepare`, an immediate
    /// change or an FDN size switch).
    jump: bool,
    /// Samples since anything above [`MEMORY_SILENCE`] was written to the delay memory.
    quiet_for: usize,
    /// Scratch for one chunk of both networks' frames (main, then fader).
    frames: Vec<f32>,
    /// Resting: the memory is clear and the input silent, so nothing is computed.
    silent: bool,
}

impl Processor for FdnReverb {
    /// Allocates the delay memory for `sample_rate`.
    fn prepare(&mut self, sample_rate: f32) {
        self.sample_rate = sample_rate;
        let longest = (mean_delay_seconds(30.0) * SPREAD.1 * sample_rate).ceil() as usize + 64;
        self.primes = sieve(longest + 1024);
        // At low rates the lines' lengths are set by their being distinct primes rather than by
        // the room (64 lines need primes up to 311, more than a large room's longest line at
        // 1 kHz): the memory must hold the longest line the largest network can have.
        self.sample_rate = sample_rate;
        let lines = std::mem::replace(&mut self.lines, MAX_LINES);
        let most = self.delays_for(30.0).into_iter().max().unwrap_or(1) as usize;
        self.lines = lines;
        // Just long enough: the memory every sample walks through is what the cache must hold.
        self.len = longest.max(most + 1) + CONTROL + 1;
        for net in [&mut self.main, &mut self.fader] {
            net.buf = vec![0.0; MAX_LINES * self.len];
        }
        for s in self.chunk_smoothers() {
            s.set_time(SMOOTH_SECONDS, sample_rate);
        }
        self.dry_wet.set_time(SMOOTH_SECONDS, sample_rate);
        self.norm.set_time(SMOOTH_SECONDS, sample_rate);
        // A running network whose lines change length leaves a transient; spread over the whole
        // smoothing time it stays below either setting's own high-frequency content.
        self.xfade.set_time(SMOOTH_SECONDS, sample_rate);
        self.size_gain.set_time(SWITCH_SECONDS, sample_rate);
        self.fader_in.set_time(SWITCH_SECONDS, sample_rate);
        self.lines = self.wanted_lines;
        self.set_patterns();
        self.land_on_room();
        self.reset();
    }

    fn reset(&mut self) {
        self.main.clear();
        self.fader.clear();
        self.w = 0;
        self.quiet_for = 0;
    }

    fn set_params(&mut self, p: &MixParams, change: Change) {
        let pairs = [
            (ParamId::ReverbTime, 0),
            (ParamId::ReverbFadeIn, 1),
            (ParamId::ReverbLowCutoff, 2),
            (ParamId::ReverbLowQ, 3),
            (ParamId::ReverbLowGain, 4),
            (ParamId::ReverbHighCutoff, 5),
            (ParamId::ReverbHighQ, 6),
            (ParamId::ReverbHighGain, 7),
        ];
        let mut changed = false;
        let smoothers = self.chunk_smoothers();
        for (id, k) in pairs {
            changed |= smoothers[k].set(p.get(id), change);
        }
        self.dirty |= changed;
        self.dry_wet.set(p.get(ParamId::ReverbDryWet), change);
        self.room_target = p.get(ParamId::ReverbRoomSize);
        self.wanted_lines = p.get(ParamId::ReverbFdnSize) as usize;
        if change == Change::Immediate && !self.primes.is_empty() {
            if self.lines != self.wanted_lines {
                self.lines = self.wanted_lines;
                self.set_patterns();
                self.reset();
            }
            self.land_on_room();
            self.update_coefficients();
            self.norm.jump(self.norm.target());
            self.size_gain.jump(1.0);
            self.fading = self.fade.value() > 0.0;
            self.fader_in.jump(1.0);
        }
    }

    /// A mono block arrives in `left`; the output is always stereo.
    fn process(&mut self, block: Block<'_>) {
        let stereo = block.is_stereo();
        self.add_tail(block.left, block.right, stereo, block.tick);
    }
}

impl FdnReverb {
    pub fn new() -> Self {
        let d = MixParams::default();
        let z = [0.0; MAX_LINES];
        FdnReverb {
            sample_rate: 48_000.0,
            primes: Vec::new(),
            len: 0,
            w: 0,
            lines: d.get(ParamId::ReverbFdnSize) as usize,
            wanted_lines: d.get(ParamId::ReverbFdnSize) as usize,
            delays: [1; MAX_LINES],
            next_delays: [1; MAX_LINES],
            room_applied: d.get(ParamId::ReverbRoomSize),
            room_target: d.get(ParamId::ReverbRoomSize),
            xfade: Ramp::new(0.0),
            xfading: false,
            rt: Smoothed::logarithmic(d.get(ParamId::ReverbTime)),
            fade: Smoothed::linear(d.get(ParamId::ReverbFadeIn)),
            low_cut: Smoothed::logarithmic(d.get(ParamId::ReverbLowCutoff)),
            low_q: Smoothed::linear(d.get(ParamId::ReverbLowQ)),
            low_gain: Smoothed::linear(d.get(ParamId::ReverbLowGain)),
            high_cut: Smoothed::logarithmic(d.get(ParamId::ReverbHighCutoff)),
            high_q: Smoothed::linear(d.get(ParamId::ReverbHighQ)),
            high_gain: Smoothed::linear(d.get(ParamId::ReverbHighGain)),
            dry_wet: Ramp::new(d.get(ParamId::ReverbDryWet)),
            norm: Ramp::new(1.0),
            size_gain: Ramp::new(1.0),
            fader_in: Ramp::new(1.0),
            patterns: Patterns {
                input: z,
                left: 1,
                right: 2,
            },
            main: Network::new(),
            fader: Network::new(),
            fading: false,
            dirty: true,
            quiet_for: 0,
            frames: vec![0.0; 2 * CONTROL * MAX_LINES],
            silent: false,
            jump: true,
        }
    }

    fn chunk_smoothers(&mut self) -> [&mut Smoothed; 8] {
        [
            &mut self.rt,
            &mut self.fade,
            &mut self.low_cut,
            &mut self.low_q,
            &mut self.low_gain,
            &mut self.high_cut,
            &mut self.high_q,
            &mut self.high_gain,
        ]
    }

    /// The lines take the wanted room size at once, without a crossfade, and the next coefficient
    /// update jumps rather than glides.
    fn land_on_room(&mut self) {
        self.delays = self.delays_for(self.room_target);
        self.room_applied = self.room_target;
        self.xfading = false;
        self.dirty = true;
        self.jump = true;
    }

    /// Clears the memory to rest while switched out; when processing resumes, the input is let in
    /// gradually, since an empty network that suddenly receives a sounding signal rings with the
    /// onset.
    pub fn rest(&mut self) {
        self.reset();
        self.size_gain.jump(0.0);
    }

    fn set_patterns(&mut self) {
        let n = self.lines;
        let norm = 1.0 / (n as f32).sqrt();
        // Three distinct non-constant Hadamard rows: orthogonal, so left and right share no
        // component of any line and the input reaches every line with equal energy.
        let (ri, rl, rr) = (n / 2 + 1, n / 4 + 3, (3 * n / 4 + 5) % n);
        for i in 0..MAX_LINES {
            self.patterns.input[i] = if i < n {
                hadamard_sign(ri, i) * norm
            } else {
                0.0
            };
        }
        self.patterns.left = rl;
        self.patterns.right = rr;
    }

    /// Distinct prime line lengths (samples) for a room size.
    fn delays_for(&self, room_size: f32) -> [u32; MAX_LINES] {
        let n = self.lines;
        let mean = mean_delay_seconds(room_size) * self.sample_rate;
        let mut d = [1u32; MAX_LINES];
        let mut last = 0u32;
        for (i, di) in d.iter_mut().take(n).enumerate() {
            let r = SPREAD.0 * (SPREAD.1 / SPREAD.0).powf(i as f32 / (n - 1) as f32);
            let want = (mean * r).round() as u32;
            let k = self
                .primes
                .partition_point(|&p| p < want)
                .min(self.primes.len() - 1);
            let mut k = if k > 0 && want - self.primes[k - 1] < self.primes[k] - want {
                k - 1
            } else {
                k
            };
            while self.primes[k] <= last && k + 1 < self.primes.len() {
                k += 1;
            }
            *di = self.primes[k];
            last = *di;
        }
        // Interleave long and short lines so neighbours in the Hadamard butterflies differ.
        let mut out = [1u32; MAX_LINES];
        for i in 0..n {
            let j = if i % 2 == 0 { i / 2 } else { n - 1 - i / 2 };
            out[i] = d[j];
        }
        out
    }

    pub fn current(&self, id: ParamId) -> Option<f32> {
        Some(match id {
            ParamId::ReverbTime => self.rt.value(),
            ParamId::ReverbFadeIn => self.fade.value(),
            ParamId::ReverbLowCutoff => self.low_cut.value(),
            ParamId::ReverbLowQ => self.low_q.value(),
            ParamId::ReverbLowGain => self.low_gain.value(),
            ParamId::ReverbHighCutoff => self.high_cut.value(),
            ParamId::ReverbHighQ => self.high_q.value(),
            ParamId::ReverbHighGain => self.high_gain.value(),
            ParamId::ReverbDryWet => self.dry_wet.value(),
            ParamId::ReverbRoomSize if !self.xfading && self.room_applied == self.room_target => {
                self.room_target
            }
            ParamId::ReverbRoomSize => f32::NAN,
            ParamId::ReverbFdnSize if self.size_gain.value() == 1.0 => self.lines as f32,
            ParamId::ReverbFdnSize => f32::NAN,
            _ => return None,
        })
    }

    /// The shortest line in use, counting the lengths being crossfaded to.
    fn shortest(&self) -> usize {
        let n = self.lines;
        let now = self.delays[..n].iter().copied().min().unwrap_or(1);
        let next = if self.xfading {
            self.next_delays[..n].iter().copied().min().unwrap_or(1)
        } else {
            now
        };
        now.min(next).max(1) as usize
    }

    /// Recomputes line gains, loop shelves and the tail calibration for the current values.
    /// Each line's length in samples, moved `m` of the way to the new room's while it crossfades.
    fn current_delays(&self, m: f32) -> [f32; MAX_LINES] {
        let mut delays = [0.0f32; MAX_LINES];
        for (i, d) in delays.iter_mut().enumerate().take(self.lines) {
            let (a, b) = (self.delays[i] as f32, self.next_delays[i] as f32);
            *d = if self.xfading { a + m * (b - a) } else { a };
        }
        delays
    }

    fn update_coefficients(&mut self) {
        let n = self.lines;
        let sr = self.sample_rate;
        // While the room size crossfades, the loop filters move with it, tick by tick, from the
        // old line lengths to the new: a jump of the shelves inside the loop would click.
        let m = if self.xfading {
            self.xfade.value()
        } else {
            0.0
        };
        let delays = self.current_delays(m);
        let rt = self.rt.value();
        let base_decay = 60.0 / rt; // dB per second
        let (mut lg, mut hg) = (self.low_gain.value(), self.high_gain.value());
        let (lf, lq) = (
            self.low_cut.value().min(0.45 * sr) as f64,
            self.low_q.value() as f64,
        );
        let (hf, hq) = (
            self.high_cut.value().min(0.45 * sr) as f64,
            self.high_q.value() as f64,
        );

        // Boosting shelves slow a band's decay; never let any band stop decaying.
        let longest = delays[..n].iter().fold(1.0f32, |m, &d| m.max(d)) / sr;
        let worst = max_boost_db_per_s(
            Shelf {
                freq: lf,
                q: lq,
                db_per_s: lg,
            },
            Shelf {
                freq: hf,
                q: hq,
                db_per_s: hg,
            },
            longest,
            sr as f64,
        );
        let allowed = base_decay - MIN_DECAY_DB_PER_S;
        if worst > allowed && worst > 0.0 {
            let scale = (allowed / worst).max(0.0);
            lg = if lg > 0.0 { lg * scale } else { lg };
            hg = if hg > 0.0 { hg * scale } else { hg };
        }

        let fade = self.fade.value();
        // Amplitude decay rate (per second) the fade-in network has beyond the main one.
        let gamma = if fade > 0.0 {
            (LN_1000 * (1.0 / fade - 1.0 / rt)).max(LN_1000 * MIN_FADE_RATE / fade)
        } else {
            f32::INFINITY
        };
        let norm = 1.0 / (n as f32).sqrt();
        let mut sum_g2 = 0.0f64;
        let mut sum_loss = 0.0f64;
        let mut main_gain = [0.0f32; MAX_LINES];
        let mut fader_gain = [0.0f32; MAX_LINES];
        for (i, &d) in delays.iter().enumerate().take(n) {
            let tau = d / sr;
            let g = 10f32.powf(-base_decay * tau / 20.0);
            sum_g2 += (g * g) as f64;
            sum_loss += (1.0 - g * g) as f64;
            let low = Coeffs::low_shelf(lf, lq, (lg * tau) as f64, sr as f64);
            let high = Coeffs::high_shelf(hf, hq, (hg * tau) as f64, sr as f64);
            self.main.low.set(i, low);
            self.main.high.set(i, high);
            main_gain[i] = g * norm;
            let g2 = if gamma.is_finite() {
                g * (-gamma * tau).exp()
            } else {
                0.0
            };
            self.fader.low.set(i, low);
            self.fader.high.set(i, high);
            fader_gain[i] = g2 * norm;
        }
        // Energy of our tail for an impulse when energy spreads evenly over the lines: what is
        // in the lines leaves at Σ(1 − g²) per pass while the taps read a fraction of it.
        let ours = (sum_g2 / n as f64) / sum_loss.max(1e-12);
        let target = 10f64.powf(iem_tail_energy_db(self.room_applied, rt) as f64 / 10.0);
        self.norm.set_target((target / ours).sqrt() as f32);
        let immediate = std::mem::take(&mut self.jump);
        self.main.retarget_gains(&main_gain, immediate);
        self.fader.retarget_gains(&fader_gain, immediate);
        if immediate {
            self.norm.jump(self.norm.target());
        }
        self.dirty = false;
    }

    /// Structural changes, coefficients and the silence gate: called once per control tick.
    fn control(&mut self) {
        // an immediate change (or the first tick after `prepare`): no gentle onsets, no glides
        let immediate = self.jump;
        if self.xfading && !self.xfade.is_moving() {
            self.delays = self.next_delays;
            self.xfading = false;
            self.dirty = true; // the loop filters' last step, to the new lengths exactly
        }
        if self.silent {
            // Nothing is sounding: switch at once rather than glide.
            self.jump = true;
            self.dry_wet.jump(self.dry_wet.target());
            self.size_gain.jump(0.0);
        }
        // FDN size: fade the tail out, switch, fade back in.
        if self.wanted_lines != self.lines {
            self.size_gain.set_target(0.0);
            if !self.size_gain.is_moving() && self.size_gain.value() == 0.0 {
                self.lines = self.wanted_lines;
                self.set_patterns();
                self.delays = self.delays_for(self.room_target);
                self.room_applied = self.room_target;
                self.xfading = false;
                self.reset();
                self.dirty = true;
                self.jump = true;
            }
        } else {
            self.size_gain.set_target(1.0);
        }
        // Room size: read the lines at old and new lengths and crossfade, so nothing clicks or
        // glides in pitch.
        if !self.xfading && self.room_applied != self.room_target {
            self.next_delays = self.delays_for(self.room_target);
            self.room_applied = self.room_target;
            if self.silent {
                self.delays = self.next_delays;
            } else {
                self.xfade.jump(0.0);
                self.xfade.set_target(1.0);
                self.xfading = true;
            }
            self.dirty = true;
        }
        let moving = self.chunk_smoothers().iter().any(|s| s.is_moving()) || self.xfading;
        if moving || self.dirty {
            self.update_coefficients();
        } else {
            self.main.settle_gains();
            self.fader.settle_gains();
        }
        for s in self.chunk_smoothers() {
            s.advance(CONTROL as u32);
        }
        if self.silent {
            self.norm.jump(self.norm.target());
            self.size_gain.jump(self.size_gain.target());
        }
        let fade_on = self.fade.value() > 0.0 || self.fade.is_moving();
        if fade_on != self.fading {
            if fade_on {
                // An empty network that suddenly receives a sounding signal rings with the
                // onset: during playback, let the signal in gradually.
                self.fader_in.jump(if immediate { 1.0 } else { 0.0 });
                self.fader_in.set_target(1.0);
            } else {
                self.fader.clear();
            }
            self.fading = fade_on;
        }
        // Once everything in the delay memory is below −500 dB, clear it and rest: left to run,
        // the loop filters' arithmetic settles into a limit cycle near 1e-36 instead of dying away
        // (flush-to-zero truncates the tiny differences their states rely on).
        if !self.silent && self.quiet_for > self.len + CONTROL {
            self.reset();
            self.silent = true;
        }
    }

    /// Adds the reverb tail to one control chunk in place; `tick` marks the start of a control
    /// period. A mono input (`stereo` false) arrives in `l`; the output is always stereo.
    fn add_tail(&mut self, l: &mut [f32], r: &mut [f32], stereo: bool, tick: bool) {
        if tick {
            self.control();
        }
        if self.silent {
            let quiet = |x: &[f32]| x.iter().all(|v| v.abs() < INPUT_SILENCE);
            if quiet(l) && (!stereo || quiet(r)) {
                if !stereo {
                    r.copy_from_slice(l);
                }
                return;
            }
            self.silent = false;
            self.quiet_for = 0;
        }
        let n = l.len();
        // Sub-blocks no longer than the shortest line (only at low rates in small rooms is that
        // shorter than a chunk).
        let shortest = self.shortest();
        let mut start = 0;
        while start < n {
            let end = (start + shortest).min(n);
            let (l, r) = (&mut l[start..end], &mut r[start..end]);
            let written = match (self.lines, self.xfading, self.fading) {
                (16, false, false) => self.run::<16, false, false>(l, r, stereo),
                (16, false, true) => self.run::<16, false, true>(l, r, stereo),
                (16, true, false) => self.run::<16, true, false>(l, r, stereo),
                (16, true, true) => self.run::<16, true, true>(l, r, stereo),
                (32, false, false) => self.run::<32, false, false>(l, r, stereo),
                (32, false, true) => self.run::<32, false, true>(l, r, stereo),
                (32, true, false) => self.run::<32, true, false>(l, r, stereo),
                (32, true, true) => self.run::<32, true, true>(l, r, stereo),
                (_, false, false) => self.run::<64, false, false>(l, r, stereo),
                (_, false, true) => self.run::<64, false, true>(l, r, stereo),
                (_, true, false) => self.run::<64, true, false>(l, r, stereo),
                (_, true, true) => self.run::<64, true, true>(l, r, stereo),
            };
            self.quiet_for = if written > MEMORY_SILENCE {
                0
            } else {
                self.quiet_for + (end - start)
            };
            start = end;
        }
    }

    /// Runs a sub-block; returns the largest magnitude written into the delay memory.
    fn run<const N: usize, const XF: bool, const FADE: bool>(
        &mut self,
        l: &mut [f32],
        r: &mut [f32],
        stereo: bool,
    ) -> f32 {
        #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
        if super::cpu::avx2_fma() {
            // SAFETY: the CPU has the features the function is compiled for.
            return unsafe { self.run_avx2::<N, XF, FADE>(l, r, stereo) };
        }
        self.run_generic::<N, XF, FADE, false>(l, r, stereo)
    }

    #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
    #[target_feature(enable = "avx2,fma")]
    fn run_avx2<const N: usize, const XF: bool, const FADE: bool>(
        &mut self,
        l: &mut [f32],
        r: &mut [f32],
        stereo: bool,
    ) -> f32 {
        self.run_generic::<N, XF, FADE, true>(l, r, stereo)
    }

    /// Runs one control chunk. Every line is at least one chunk long, so a whole chunk of line
    /// outputs can be read before any of it is written back.
    #[inline(always)]
    fn run_generic<const N: usize, const XF: bool, const FADE: bool, const AVX: bool>(
        &mut self,
        l: &mut [f32],
        r: &mut [f32],
        stereo: bool,
    ) -> f32 {
        let n = l.len();
        debug_assert!(n <= CONTROL && n <= self.shortest());
        let mut mono = [0.0f32; CONTROL];
        for t in 0..n {
            mono[t] = if stereo { 0.5 * (l[t] + r[t]) } else { l[t] };
        }
        // Every per-sample gain of the chunk, worked out before the loop (a constant fill unless
        // it glides), so the loop itself does not branch.
        let mut mix = [0.0f32; CONTROL];
        let (mut size, mut norm, mut into_fader, mut wet) = (
            [0.0f32; CONTROL],
            [0.0f32; CONTROL],
            [1.0f32; CONTROL],
            [0.0f32; CONTROL],
        );
        if XF {
            fill(&mut self.xfade, &mut mix[..n]);
        }
        fill(&mut self.size_gain, &mut size[..n]);
        fill(&mut self.norm, &mut norm[..n]);
        fill(&mut self.dry_wet, &mut wet[..n]);
        if FADE {
            fill(&mut self.fader_in, &mut into_fader[..n]);
        }
        let span = Span {
            delays: &self.delays,
            next: &self.next_delays,
            mix: &mix,
            w: self.w,
            len: self.len,
            n,
        };
        let (main_frames, fader_frames) = self.frames.split_at_mut(CONTROL * MAX_LINES);
        let main = &mut main_frames[..CONTROL * N].as_chunks_mut::<N>().0;
        let fader = &mut fader_frames[..CONTROL * N].as_chunks_mut::<N>().0;
        self.main.gather::<N, XF, AVX>(&span, main);
        if FADE {
            self.fader.gather::<N, XF, AVX>(&span, fader);
        }
        for t in 0..n {
            // The calibration scales what enters, not what leaves: a change of room size or
            // reverb time then leaves the tail already sounding at its own level. A network
            // switched in fresh (new FDN size) takes its input gradually as well as giving its
            // output gradually: an abrupt onset would ring through the tail.
            let x = mono[t] * norm[t] * size[t];
            let (mut tl, mut tr) = self.main.step::<N, AVX>(&mut main[t], x, &self.patterns);
            if FADE {
                let (fl, fr) =
                    self.fader
                        .step::<N, AVX>(&mut fader[t], x * into_fader[t], &self.patterns);
                tl -= fl;
                tr -= fr;
            }
            let g = wet[t] * size[t];
            let dry_r = if stereo { r[t] } else { l[t] };
            l[t] += g * tl;
            r[t] = dry_r + g * tr;
        }
        self.main.scatter::<N, AVX>(&span, main);
        if FADE {
            self.fader.scatter::<N, AVX>(&span, fader);
        }
        self.w = wrap(self.w + n, self.len);
        let mut written = [0.0f32; N];
        for frame in &main[..n] {
            for (m, v) in written.iter_mut().zip(frame) {
                *m = m.max(v.abs());
            }
        }
        written.iter().fold(0.0, |a, &b| a.max(b))
    }
}

impl Default for FdnReverb {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_are_distinct_primes_growing_with_room_size() {
        let mut r = FdnReverb::new();
        for (lines, rate) in [16, 32, 64]
            .into_iter()
            .flat_map(|l| [1_000.0, 1_234.57, 8_000.0, 44_100.0, 768_000.0].map(|r| (l, r)))
        {
            r.wanted_lines = lines;
            r.prepare(rate);
            let small = r.delays_for(1.0);
            let big = r.delays_for(30.0);
            let mut s: Vec<u32> = small[..lines].to_vec();
            s.sort();
            s.dedup();
            assert_eq!(s.len(), lines);
            assert!(s.iter().all(|&d| r.primes.binary_search(&d).is_ok()));
            let mean = |d: &[u32]| d.iter().map(|&x| x as f64).sum::<f64>() / d.len() as f64;
            if rate >= 44_100.0 {
                assert!(mean(&big[..lines]) > 10.0 * mean(&small[..lines]));
            }
            // every line fits the memory, at every size (the room glides through them all)
            for room in [1.0, 5.0, 30.0] {
                let d = r.delays_for(room);
                assert!(
                    d[..lines].iter().all(|&d| (d as usize) + CONTROL < r.len),
                    "{lines} lines at {rate} Hz, room {room}: {:?} vs {}",
                    &d[..lines],
                    r.len
                );
            }
        }
    }

    #[test]
    fn hadamard_transform_is_orthogonal_up_to_scale() {
        let mut x = [0.0f32; 16];
        x[3] = 1.0;
        fwht::<16>(&mut x);
        assert!(x.iter().all(|v| v.abs() == 1.0));
        fwht::<16>(&mut x);
        assert_eq!(x[3], 16.0);
        assert_eq!(x.iter().map(|v| v.abs()).sum::<f32>(), 16.0);
    }

    #[test]
    fn tail_table_interpolates_its_own_points() {
        assert!((iem_tail_energy_db(14.54, 2.0) - -4.87).abs() < 1e-4);
        let mid = iem_tail_energy_db(12.0, 2.0);
        assert!(mid < -3.31 && mid > -4.87);
    }
}
