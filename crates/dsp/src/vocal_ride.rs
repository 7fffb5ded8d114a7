//! Vocal ride: the level stage's gain follows, in real time, the vocal's loudness against the
//! backing's, so that each phrase sits where the set balance puts it.
//!
//! Both signals are folded to mono ((L + R) / 2, as the assistant's analysis hears them, so that
//! the balance it sets means the same here), K-weighted (BS.1770, on every other sample: energy
//! needs no more), and their energies followed
//! with a 50 ms time constant, short enough that a phrase's end or start is known within a few
//! tens of milliseconds. Their
//! energies are then averaged — only while someone sings — over a time that shrinks as the speed
//! grows ([`BALANCE_DB_AT_SPEED`] / speed seconds); the balance is the ratio of those averages,
//! as an integrated loudness would take it, and the ride's gain is the set balance minus it,
//! within ± the range. The gain moves at most `speed` dB per second, in equal per-sample steps, so
//! it cannot pump: at the default 12 dB/s a 3 dB correction takes a quarter of a second.
//!
//! It holds still where nobody sings: a period counts as sung only when the vocal is louder than
//! [`SILENCE_LUFS`] and within [`SUNG_WITHIN_DB`] of where the balance would put it against the
//! backing; a breath, a pause or a gap in the backing is far below that and leaves the gain where
//! it is. With no backing at all (no sidechain) the gain returns to 0 dB: the static level.
//!
//! Everything is decided once per control period, from the periods before, on the chain's fixed
//! grid: any block size gives the same output, and the plug-in rides exactly as `automix render`.

use super::processor::CONTROL;
use super::processor::{Block, Change, Processor};
use crate::loudness::{Blocks, KWeightingLanes};
use crate::params::{MixParams, ParamId};

/// The detectors' time constant.
pub const DETECTOR_SECONDS: f32 = 0.05;
/// The balance is averaged over `BALANCE_DB_AT_SPEED / speed` seconds: 0.375 s at the default
/// 12 dB/s, so a faster ride also listens to a shorter stretch.
pub const BALANCE_DB_AT_SPEED: f32 = 4.5;
/// A period is sung when the vocal is no more than this far under where the balance puts it.
pub const SUNG_WITHIN_DB: f32 = 15.0;
/// Quieter than this (K-weighted, of the mono fold) is silence, whatever the balance.
pub const SILENCE_LUFS: f32 = -70.0;
/// How fast the gain returns to 0 dB when the ride is switched off or the level bypassed.
const RELEASE_DB_PER_S: f32 = 60.0;
/// BS.1770's offset from mean square to LUFS.
const LUFS_OFFSET: f32 = -0.691;

#[derive(Clone, Debug)]
pub struct VocalRide {
    sample_rate: f32,
    on: bool,
    range_db: f32,
    speed_db_per_s: f32,
    balance_db: f32,
    /// Lanes: the vocal's mid (L + R) / 2 and the backing's.
    weighting: KWeightingLanes<2>,
    /// K-weighted energy summed over the current period.
    vocal_sum: f64,
    backing_sum: f64,
    /// A backing arrived during the current period.
    backing_heard: bool,
    samples: u32,
    vocal_ms: f64,
    backing_ms: f64,
    /// The vocal's and the backing's mean square averaged over sung periods; None until the first.
    heard: Option<(f64, f64)>,
    detector_coeff: f64,
    balance_coeff: f32,
    /// The ride's gain, dB, and the linear gains the current period glides between.
    gain_db: f32,
    gain_from: f32,
    gain_to: f32,
    pos: u32,
}

impl Default for VocalRide {
    fn default() -> Self {
        Self::new()
    }
}

impl VocalRide {
    pub fn new() -> Self {
        let p = MixParams::default();
        VocalRide {
            sample_rate: 48_000.0,
            on: false,
            range_db: p.get(ParamId::RideRange),
            speed_db_per_s: p.get(ParamId::RideSpeed),
            balance_db: p.get(ParamId::RideBalance),
            weighting: KWeightingLanes::new(48_000.0),
            vocal_sum: 0.0,
            backing_sum: 0.0,
            backing_heard: false,
            samples: 0,
            vocal_ms: 0.0,
            backing_ms: 0.0,
            heard: None,
            detector_coeff: 0.0,
            balance_coeff: 0.0,
            gain_db: 0.0,
            gain_from: 1.0,
            gain_to: 1.0,
            pos: 0,
        }
    }

    /// The ride's settings as it uses them: they take effect at once (the gain itself moves at
    /// the set speed, so nothing needs a glide).
    pub fn current(&self, id: ParamId) -> Option<f32> {
        match id {
            ParamId::RideOn => Some(if self.on { 1.0 } else { 0.0 }),
            ParamId::RideRange => Some(self.range_db),
            ParamId::RideSpeed => Some(self.speed_db_per_s),
            ParamId::RideBalance => Some(self.balance_db),
            _ => None,
        }
    }

    /// The ride's gain now, dB (added to the level's fader).
    pub fn gain_db(&self) -> f32 {
        self.gain_db
    }

    /// Whether the ride does nothing now and needs no detector: off and back at 0 dB.
    fn idle(&self) -> bool {
        !self.on && self.gain_db == 0.0 && self.gain_from == 1.0
    }

    fn per_period(seconds: f32, sample_rate: f32) -> f32 {
        1.0 - (-(CONTROL as f32) / (seconds * sample_rate)).exp()
    }

    fn clear_detectors(&mut self) {
        self.weighting = KWeightingLanes::new(self.sample_rate as f64 / 2.0);
        self.vocal_sum = 0.0;
        self.backing_sum = 0.0;
        self.backing_heard = false;
        self.samples = 0;
        self.vocal_ms = 0.0;
        self.backing_ms = 0.0;
        self.heard = None;
    }

    /// The gain this period heads for, from what the periods before it heard.
    fn target_db(&mut self) -> f32 {
        if !self.on {
            return 0.0;
        }
        if self.samples > 0 {
            let n = self.samples as f64;
            let a = self.detector_coeff;
            self.vocal_ms += a * (self.vocal_sum / n - self.vocal_ms);
            self.backing_ms += a * (self.backing_sum / n - self.backing_ms);
        }
        if !self.backing_heard {
            // no sidechain: the static level
            return 0.0;
        }
        let (vocal, backing) = (lufs(self.vocal_ms), lufs(self.backing_ms));
        let balance = vocal - backing;
        let sung = vocal > SILENCE_LUFS
            && backing > SILENCE_LUFS
            && balance > self.balance_db - SUNG_WITHIN_DB;
        if !sung {
            return self.gain_db;
        }
        // energies averaged, not decibels: a balance like an integrated loudness's, which
        // the syllables' dips do not drag down
        let a = self.balance_coeff as f64;
        let (v, b) = match self.heard {
            Some((v, b)) => (v + a * (self.vocal_ms - v), b + a * (self.backing_ms - b)),
            None => (self.vocal_ms, self.backing_ms),
        };
        self.heard = Some((v, b));
        (self.balance_db - (lufs(v) - lufs(b))).clamp(-self.range_db, self.range_db)
    }

    fn start_period(&mut self) {
        let target = self.target_db();
        let rate = if self.on {
            self.speed_db_per_s
        } else {
            RELEASE_DB_PER_S
        };
        let max_step = rate * CONTROL as f32 / self.sample_rate;
        self.gain_db += (target - self.gain_db).clamp(-max_step, max_step);
        if !self.on && self.gain_db.abs() < 1e-4 {
            self.gain_db = 0.0;
        }
        self.gain_from = self.gain_to;
        self.gain_to = 10f32.powf(self.gain_db / 20.0);
        self.vocal_sum = 0.0;
        self.backing_sum = 0.0;
        self.backing_heard = false;
        self.samples = 0;
        self.pos = 0;
    }

    /// Rides one piece of a control period (the processed vocal, before the fader) against the
    /// backing's matching piece; `None` when no backing is connected.
    pub fn process_with(&mut self, block: Block<'_>, backing: Option<[&[f32]; 2]>) {
        if self.idle() {
            return;
        }
        let n = block.left.len();
        let backing = backing.filter(|[l, r]| l.len() >= n && r.len() >= n);
        if block.tick {
            self.start_period();
            if self.idle() {
                self.clear_detectors();
                return;
            }
        }
        let stereo = block.is_stereo();
        let Block { left, right, .. } = block;
        if self.on {
            // every other sample of the period: loudness needs energy, not every sample, and
            // K-weighting is flat above 3 kHz, so what folds down is weighted as it was
            let (mut vocal, mut other) = (0.0, 0.0);
            let first = (self.pos % 2) as usize;
            for i in (first..n).step_by(2) {
                let mid = if stereo {
                    0.5 * (left[i] + right[i])
                } else {
                    left[i]
                };
                let side = backing.map_or(0.0, |[bl, br]| 0.5 * (bl[i] + br[i]));
                let [v, b] = self.weighting.tick([mid, side]);
                vocal += v * v;
                other += b * b;
            }
            if vocal.is_finite() && other.is_finite() {
                self.vocal_sum += vocal;
                self.backing_sum += other;
                self.samples += (first..n).step_by(2).len() as u32;
                self.backing_heard |= backing.is_some();
            } else {
                // a sidechain (or vocal) gone non-finite: start listening again, gain held
                let gain = (self.gain_db, self.gain_from, self.gain_to, self.pos);
                self.clear_detectors();
                (self.gain_db, self.gain_from, self.gain_to, self.pos) = gain;
            }
        }
        let step = (self.gain_to - self.gain_from) / CONTROL as f32;
        for i in 0..left.len() {
            self.pos += 1;
            let g = self.gain_from + step * self.pos.min(CONTROL as u32) as f32;
            left[i] *= g;
            if stereo {
                right[i] *= g;
            }
        }
    }
}

impl Processor for VocalRide {
    fn prepare(&mut self, sample_rate: f32) {
        self.sample_rate = sample_rate;
        self.detector_coeff = Self::per_period(DETECTOR_SECONDS, sample_rate) as f64;
        self.balance_coeff =
            Self::per_period(BALANCE_DB_AT_SPEED / self.speed_db_per_s, sample_rate);
        self.reset();
    }

    fn reset(&mut self) {
        self.clear_detectors();
        self.gain_db = 0.0;
        self.gain_from = 1.0;
        self.gain_to = 1.0;
        self.pos = 0;
    }

    /// The ride is part of the level stage: bypassing the level returns it to 0 dB too.
    fn set_params(&mut self, p: &MixParams, change: Change) {
        self.on = p.on(ParamId::RideOn) && !p.on(ParamId::LevelBypass);
        self.range_db = p.get(ParamId::RideRange);
        self.speed_db_per_s = p.get(ParamId::RideSpeed);
        self.balance_db = p.get(ParamId::RideBalance);
        self.balance_coeff =
            Self::per_period(BALANCE_DB_AT_SPEED / self.speed_db_per_s, self.sample_rate);
        if change == Change::Immediate && !self.on {
            self.gain_db = 0.0;
            self.gain_from = 1.0;
            self.gain_to = 1.0;
        }
    }

    fn process(&mut self, block: Block<'_>) {
        self.process_with(block, None);
    }
}

fn lufs(ms: f64) -> f32 {
    LUFS_OFFSET + 10.0 * (ms.max(1e-20).log10() as f32)
}
/// How much a ride set to hold `balance_db` (on, the other settings as in `params`) changes the
/// integrated loudness (BS.1770, LU) of a mono `vocal` against a mono `backing` at `sample_rate`
/// (the folds the ride hears).
/// The assistant sets the ride's balance with it, so that riding evens the vocal out around the
/// level the level decision chose instead of moving it. None for a silent vocal.
pub fn integrated_shift(
    vocal: &[f32],
    backing: &[f32],
    sample_rate: f32,
    params: &MixParams,
    balance_db: f32,
) -> Option<f32> {
    let mut p = params.clone();
    p.set(ParamId::RideOn, 1.0);
    p.set(ParamId::LevelBypass, 0.0);
    p.set(ParamId::RideBalance, balance_db);
    let mut ride = VocalRide::new();
    ride.prepare(sample_rate);
    ride.set_params(&p, Change::Immediate);
    let n = vocal.len().min(backing.len());
    let mut ridden = vocal[..n].to_vec();
    let mut unused = [0.0f32; CONTROL];
    for (k, period) in ridden.chunks_mut(CONTROL).enumerate() {
        let at = k * CONTROL;
        let b = &backing[at..at + period.len()];
        let len = period.len();
        ride.process_with(Block::mono(period, &mut unused[..len], true), Some([b, b]));
    }
    let rate = sample_rate as u32;
    let before = Blocks::of_mono(&vocal[..n], rate).integrated()?;
    let after = Blocks::of_mono(&ridden, rate).integrated()?;
    Some((after - before) as f32)
}
