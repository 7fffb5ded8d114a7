//! The contract every stage of the chain keeps (EQ, compressor, reverb, level), so that the chain,
//! the assistant's renders and the tests drive them all the same way.
//!
//! Stages are driven by [`super::VocalChain`] in pieces of at most [`CONTROL`]
//! samples laid on a fixed grid of the running sample count. A piece that starts a control
//! period is marked ([`Block::tick`]): there a stage moves its coefficients along their glides,
//! once per period, so the output does not depend on how a host cuts its blocks.

use crate::params::MixParams;

/// Samples between coefficient updates: the control grid every stage keeps.
pub const CONTROL: usize = 32;

/// How new parameter values reach the sound.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    /// Glide there (smoothstep, [`super::smoother::SMOOTH_SECONDS`]): every change while audio
    /// plays, so nothing clicks.
    Glide,
    /// Be there at once: the start of an offline render, the first block after activation.
    Immediate,
}

/// Whether the right channel of a [`Block`] carries a signal of its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Channels {
    /// The signal is in `left`; a stage that makes stereo (the reverb) writes `right`, the others
    /// leave it alone.
    Mono,
    Stereo,
}

/// One piece of a control period, processed in place.
pub struct Block<'a> {
    pub left: &'a mut [f32],
    pub right: &'a mut [f32],
    pub channels: Channels,
    /// The piece starts a control period: coefficients follow their gliding parameters here.
    pub tick: bool,
}

impl<'a> Block<'a> {
    pub fn new(left: &'a mut [f32], right: &'a mut [f32], channels: Channels, tick: bool) -> Self {
        Block {
            left,
            right,
            channels,
            tick,
        }
    }

    /// A mono piece with no right channel of its own (`right` is scratch space of the same
    /// length, which a mono stage never reads).
    pub fn mono(left: &'a mut [f32], right: &'a mut [f32], tick: bool) -> Self {
        Block {
            left,
            right,
            channels: Channels::Mono,
            tick,
        }
    }

    pub fn is_stereo(&self) -> bool {
        self.channels == Channels::Stereo
    }
}

/// A stage of the chain.
pub trait Processor {
    /// Sizes and allocates everything for `sample_rate` and clears all memory; the next parameter
    /// change lands at once. The only call that may allocate.
    fn prepare(&mut self, sample_rate: f32);
    /// Clears audio memory (filter states, detector, tail); parameters stay as they are.
    fn reset(&mut self);
    /// Takes the stage's parameters from `params`.
    fn set_params(&mut self, params: &MixParams, change: Change);
    /// Processes one piece of a control period in place.
    fn process(&mut self, block: Block<'_>);
}

/// Runs a mono signal through `stage` alone, in place, on the chain's control grid as the chain
/// drives it: how the assistant renders one stage of a decision it is weighing. The signal must
/// start on the grid (at a period's start, as a whole song does).
pub fn process_mono(stage: &mut impl Processor, signal: &mut [f32]) {
    let mut unused = [0.0f32; CONTROL];
    for period in signal.chunks_mut(CONTROL) {
        let n = period.len();
        stage.process(Block::mono(period, &mut unused[..n], true));
    }
}

/// `stage` prepared for `sample_rate` and set to `params` at once.
pub fn prepared<P: Processor>(mut stage: P, sample_rate: f32, params: &MixParams) -> P {
    stage.prepare(sample_rate);
    stage.set_params(params, Change::Immediate);
    stage
}
