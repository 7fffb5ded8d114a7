//! The vocal chain of the research: EQ → compressor → FDN reverb → level, with per-stage bypass,
//! and two stages the research lacks: a de-esser after the EQ, and a ride in the level stage that
//! follows the backing track (when one is given) to hold the vocal's balance phrase by phrase.
//!
//! Audio is processed in control chunks of at most [`CONTROL`] samples laid on a fixed grid of the
//! running sample count: coefficients follow their gliding parameters once per chunk, and because
//! the grid does not depend on how the host cuts its blocks, any block size gives the same output.
//! All memory is allocated in [`VocalChain::prepare`]; processing never allocates.

use super::compressor::Compressor;
use super::de_esser::DeEsser;
use super::denormal::DenormalGuard;
use super::eq::Equalizer;
use super::fdn_reverb::FdnReverb;
use super::gain::Gain;
use super::processor::{Block, Change, Channels, Processor};
use super::smoother::{Ramp, SWITCH_SECONDS};
use super::vocal_ride::VocalRide;
use crate::params::{MixParams, ParamId};

pub use super::processor::CONTROL;
/// Lowest and highest sample rate the chain accepts.
pub const MIN_SAMPLE_RATE: f32 = 1_000.0;
pub const MAX_SAMPLE_RATE: f32 = 768_000.0;
/// Inputs beyond ±1000 (+60 dBFS) are clamped there: no real signal is that loud, and it keeps
/// every sum in the chain far from overflow.
pub const INPUT_LIMIT: f32 = 1000.0;

#[derive(Debug, Clone, PartialEq)]
pub enum ChainError {
    UnsupportedSampleRate(f32),
}

impl std::fmt::Display for ChainError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ChainError::UnsupportedSampleRate(sr) => write!(
                f,
                "sample rate {sr} Hz is outside the {MIN_SAMPLE_RATE}–{MAX_SAMPLE_RATE} Hz the vocal chain runs at"
            ),
        }
    }
}

impl std::error::Error for ChainError {}

/// A stage that can be switched out: crossfades between its input and output while switching,
/// and is skipped (its memory cleared) while fully off.
#[derive(Clone, Debug)]
struct Switch {
    on: Ramp,
}

impl Switch {
    fn new() -> Self {
        Switch { on: Ramp::new(1.0) }
    }

    fn is_off(&self) -> bool {
        !self.on.is_moving() && self.on.value() == 0.0
    }

    /// Runs `stage` on the chunk, crossfading with the unprocessed signal while switching.
    /// Returns false when the stage is off and did not run.
    fn run(
        &mut self,
        dry: &mut [Vec<f32>; 2],
        l: &mut [f32],
        r: &mut [f32],
        stereo_in: bool,
        stage: impl FnOnce(&mut [f32], &mut [f32]),
    ) -> bool {
        if self.is_off() {
            return false;
        }
        if !self.on.is_moving() {
            stage(l, r);
            return true;
        }
        let n = l.len();
        dry[0][..n].copy_from_slice(l);
        dry[1][..n].copy_from_slice(if stereo_in { &*r } else { &*l });
        stage(l, r);
        for i in 0..n {
            let m = self.on.tick();
            l[i] = dry[0][i] + m * (l[i] - dry[0][i]);
            r[i] = dry[1][i] + m * (r[i] - dry[1][i]);
        }
        true
    }
}

/// The stages that crossfade when switched, in chain order, with the parameter that switches each
/// and whether that parameter means "on" (the de-esser, which EQ Bypass also switches out) rather
/// than "bypassed".
const SWITCHED: [(ParamId, bool); 4] = [
    (ParamId::EqBypass, false),
    (ParamId::DeessOn, true),
    (ParamId::CompBypass, false),
    (ParamId::ReverbBypass, false),
];

/// A backing track's left and right channels, as long as the vocal they accompany.
pub type Backing<'a> = Option<[&'a [f32]; 2]>;

#[derive(Clone, Debug)]
pub struct VocalChain {
    sample_rate: f32,
    params: MixParams,
    eq: Equalizer,
    de_esser: DeEsser,
    comp: Compressor,
    reverb: FdnReverb,
    ride: VocalRide,
    level: Gain,
    /// EQ, de-esser, compressor, reverb ([`SWITCHED`]).
    switches: [Switch; 4],
    /// Samples processed since `prepare`/`reset`, modulo the chunk grid.
    grid: usize,
    dry: [Vec<f32>; 2],
    /// Whether the reverb, switched out, has cleared its memory (clearing it is not free).
    reverb_resting: bool,
    prepared: bool,
}

impl Default for VocalChain {
    fn default() -> Self {
        Self::new()
    }
}

impl VocalChain {
    pub fn new() -> Self {
        let params = MixParams::default();
        VocalChain {
            sample_rate: 48_000.0,
            eq: Equalizer::new(),
            de_esser: DeEsser::new(),
            comp: Compressor::new(),
            reverb: FdnReverb::new(),
            ride: VocalRide::new(),
            level: Gain::new(params.get(ParamId::LevelGain)),
            switches: [Switch::new(), Switch::new(), Switch::new(), Switch::new()],
            grid: 0,
            dry: [vec![0.0; CONTROL], vec![0.0; CONTROL]],
            reverb_resting: false,
            prepared: false,
            params,
        }
    }

    /// Allocates everything for `sample_rate`, clears all memory and jumps to the current
    /// parameters. Memory does not depend on the host's block size: any block length works.
    pub fn prepare(&mut self, sample_rate: f32) -> Result<(), ChainError> {
        if !(MIN_SAMPLE_RATE..=MAX_SAMPLE_RATE).contains(&sample_rate) {
            return Err(ChainError::UnsupportedSampleRate(sample_rate));
        }
        self.sample_rate = sample_rate;
        self.eq.prepare(sample_rate);
        self.de_esser.prepare(sample_rate);
        self.comp.prepare(sample_rate);
        self.reverb.prepare(sample_rate);
        self.ride.prepare(sample_rate);
        self.level.prepare(sample_rate);
        for s in &mut self.switches {
            s.on.set_time(SWITCH_SECONDS, sample_rate);
        }
        self.prepared = true;
        let p = self.params.clone();
        self.apply(&p, Change::Immediate);
        self.reset();
        Ok(())
    }

    pub fn sample_rate(&self) -> f32 {
        self.sample_rate
    }

    /// Clears all audio memory (reverb tail, filter and detector state; the ride starts again
    /// from 0 dB).
    pub fn reset(&mut self) {
        self.eq.reset();
        self.de_esser.reset();
        self.comp.reset();
        self.reverb.reset();
        self.ride.reset();
        self.grid = 0;
    }

    /// Latency the chain adds, in samples: none.
    pub fn latency_samples(&self) -> u32 {
        0
    }

    pub fn params(&self) -> &MixParams {
        &self.params
    }

    /// New parameter values: every continuous one glides there, switches crossfade.
    pub fn set_params(&mut self, p: &MixParams) {
        self.apply(p, Change::Glide);
    }

    /// New parameter values at once, without gliding (the start of an offline render).
    pub fn set_params_immediate(&mut self, p: &MixParams) {
        self.apply(p, Change::Immediate);
    }

    fn apply(&mut self, p: &MixParams, change: Change) {
        self.params = p.clone();
        self.eq.set_params(p, change);
        self.de_esser.set_params(p, change);
        self.comp.set_params(p, change);
        self.reverb.set_params(p, change);
        self.ride.set_params(p, change);
        self.level.set_params(p, change);
        for (s, (id, means_on)) in self.switches.iter_mut().zip(SWITCHED) {
            // the de-esser belongs to the EQ stage: bypassing the stage bypasses it too
            let stage_out = id == ParamId::DeessOn && p.on(ParamId::EqBypass);
            let on = if p.on(id) == means_on && !stage_out {
                1.0
            } else {
                0.0
            };
            s.on.set(on, change);
        }
    }

    /// Where a parameter's glide has got to (a switch reports its crossfade: 1 = bypassed, or
    /// for the de-esser 1 = on; the ride's settings take effect at once). NaN while a room-size
    /// or FDN-size change is still crossfading.
    pub fn current(&self, id: ParamId) -> f32 {
        if let Some(i) = SWITCHED.iter().position(|(s, _)| *s == id) {
            let on = self.switches[i].on.value();
            return if SWITCHED[i].1 { on } else { 1.0 - on };
        }
        match id {
            ParamId::LevelGain | ParamId::LevelBypass => {
                let db = self.level.current_db();
                if id == ParamId::LevelGain {
                    db
                } else if db == 0.0 && self.params.on(id) {
                    1.0
                } else {
                    0.0
                }
            }
            _ => self
                .eq
                .current(id)
                .or_else(|| self.de_esser.current(id))
                .or_else(|| self.comp.current(id))
                .or_else(|| self.reverb.current(id))
                .or_else(|| self.ride.current(id))
                .unwrap_or(f32::NAN),
        }
    }

    /// The ride's gain now, dB (0 while the ride is off), on top of the level's fader.
    pub fn ride_gain_db(&self) -> f32 {
        self.ride.gain_db()
    }

    /// Most de-esser reduction since the last call, dB (≤ 0): for a meter.
    pub fn take_de_esser_meter_db(&mut self) -> f32 {
        self.de_esser.take_meter_db()
    }

    /// The compressor's gain reduction now, dB (≤ 0).
    pub fn gain_reduction_db(&self) -> f32 {
        self.comp.gain_reduction_db()
    }

    /// Most gain reduction since the last call, dB (≤ 0): for a meter.
    pub fn take_gain_reduction_meter_db(&mut self) -> f32 {
        self.comp.take_meter_db()
    }

    /// Processes a stereo vocal in place, with no backing track (the ride holds the static level).
    pub fn process_stereo(&mut self, l: &mut [f32], r: &mut [f32]) {
        self.process_stereo_with(l, r, None);
    }

    /// Processes a mono vocal: it arrives in `l`; the stereo result is written to `l` and `r`
    /// (whatever `r` held is ignored). EQ and compressor then run once, not twice.
    pub fn process_mono(&mut self, l: &mut [f32], r: &mut [f32]) {
        self.process_mono_with(l, r, None);
    }

    /// Processes a stereo vocal in place against its backing track (what the ride follows; the
    /// backing is only listened to, never mixed in). Backing channels shorter than the vocal
    /// count as no backing.
    pub fn process_stereo_with(&mut self, l: &mut [f32], r: &mut [f32], backing: Backing<'_>) {
        assert_eq!(l.len(), r.len(), "channel buffers differ in length");
        self.process(l, r, true, backing);
    }

    /// [`VocalChain::process_mono`] against a backing track.
    pub fn process_mono_with(&mut self, l: &mut [f32], r: &mut [f32], backing: Backing<'_>) {
        assert_eq!(l.len(), r.len(), "channel buffers differ in length");
        self.process(l, r, false, backing);
    }

    fn process(&mut self, l: &mut [f32], r: &mut [f32], stereo_in: bool, backing: Backing<'_>) {
        let backing = backing.filter(|[bl, br]| bl.len() >= l.len() && br.len() >= l.len());
        if !self.prepared {
            // Unprepared: pass the dry signal through rather than guess a sample rate.
            if !stereo_in {
                r.copy_from_slice(l);
            }
            sanitize(l);
            sanitize(r);
            return;
        }
        let _ftz = DenormalGuard::new();
        let mut start = 0;
        while start < l.len() {
            let n = (CONTROL - self.grid).min(l.len() - start);
            let end = start + n;
            let tick = self.grid == 0;
            let piece = backing.map(|[bl, br]| [&bl[start..end], &br[start..end]]);
            self.chunk(
                &mut l[start..end],
                &mut r[start..end],
                stereo_in,
                tick,
                piece,
            );
            self.grid = (self.grid + n) % CONTROL;
            start = end;
        }
    }

    /// One piece of a control period; `tick` marks its start, where coefficients follow their
    /// gliding parameters. Periods lie on a fixed grid of the sample count, so how the host cuts
    /// its blocks changes nothing.
    fn chunk(
        &mut self,
        l: &mut [f32],
        r: &mut [f32],
        stereo_in: bool,
        tick: bool,
        backing: Backing<'_>,
    ) {
        sanitize(l);
        if stereo_in {
            sanitize(r);
        }
        let channels = if stereo_in {
            Channels::Stereo
        } else {
            Channels::Mono
        };
        let [eq_on, de_esser_on, comp_on, reverb_on] = &mut self.switches;
        let (eq, comp, reverb) = (&mut self.eq, &mut self.comp, &mut self.reverb);
        if !eq_on.run(&mut self.dry, l, r, stereo_in, |l, r| {
            eq.process(Block::new(l, r, channels, tick))
        }) {
            eq.reset();
        }
        let de_esser = &mut self.de_esser;
        if !de_esser_on.run(&mut self.dry, l, r, stereo_in, |l, r| {
            de_esser.process(Block::new(l, r, channels, tick))
        }) {
            de_esser.reset();
        }
        if !comp_on.run(&mut self.dry, l, r, stereo_in, |l, r| {
            comp.process(Block::new(l, r, channels, tick))
        }) {
            comp.reset();
        }
        if !reverb_on.run(&mut self.dry, l, r, stereo_in, |l, r| {
            reverb.process(Block::new(l, r, channels, tick))
        }) {
            if !stereo_in {
                r.copy_from_slice(l);
            }
            if !self.reverb_resting {
                reverb.rest();
                self.reverb_resting = true;
            }
        } else {
            self.reverb_resting = false;
        }
        // the reverb (or its bypass) made the signal stereo
        self.ride
            .process_with(Block::new(l, r, Channels::Stereo, tick), backing);
        self.level.process(Block::new(l, r, Channels::Stereo, tick));
        // Nothing non-finite may leave: if a state ever blew up, start clean rather than pass it on.
        let sum: f32 = l.iter().chain(r.iter()).sum();
        if !sum.is_finite() {
            self.eq.reset();
            self.de_esser.reset();
            self.comp.reset();
            self.reverb.reset();
            self.ride.reset();
            l.fill(0.0);
            r.fill(0.0);
        }
    }
}

fn sanitize(x: &mut [f32]) {
    for v in x {
        *v = if v.is_finite() {
            v.clamp(-INPUT_LIMIT, INPUT_LIMIT)
        } else {
            0.0
        };
    }
}
