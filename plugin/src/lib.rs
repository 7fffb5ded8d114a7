//! Vocal Automix as a plug-in (CLAP and VST3, through nice-plug): the engine's vocal chain on the
//! main input, the backing track on a stereo sidechain input. A thin wrapper: the sound comes from
//! `engine::VocalChain`, the host's parameters from `engine::params` (see [`host_params`]).

mod assistant_settings;
pub mod capture;
mod editor;
mod editor_reference;
mod editor_widgets;
mod host_bypass;
pub mod host_params;
mod main_thread;
mod reference_thread;
mod saved_state;
pub mod session;
mod worker;

use std::num::NonZeroU32;
use std::sync::Arc;

use std::sync::atomic::Ordering;

use engine::dsp::loudness_match::LoudnessMatch;
use engine::{MixParams, VocalChain};
use nice_plug::prelude::*;
use nice_plug_egui::EguiEditorState;

use capture::{BlockInfo, CaptureSender};
use host_bypass::{HostBypass, Plan};
use host_params::AutomixParams;
use session::{MainTask, Shared};
use worker::Worker;

const STEREO: Option<NonZeroU32> = NonZeroU32::new(2);
const MONO: Option<NonZeroU32> = NonZeroU32::new(1);
const SIDECHAIN: &[NonZeroU32] = &[NonZeroU32::new(2).unwrap()];
const SIDECHAIN_NAME: &[&str] = &["Backing (sidechain)"];

pub struct VocalAutomix {
    params: Arc<AutomixParams>,
    chain: VocalChain,
    /// The host's values, read at the start of each block (sized once, never reallocated).
    values: MixParams,
    /// The values last handed to the chain: unchanged values are not handed over again (the
    /// reverb would recompute its coefficients for nothing, several times the cost of a block).
    applied: MixParams,
    /// The right channel for a mono vocal, sized in `activate`.
    scratch: Vec<f32>,
    /// The dry vocal of the block, for A/B (sized in `activate`).
    dry: [Vec<f32>; 2],
    ab: LoudnessMatch,
    /// The host's bypass button: the crossfade to the dry vocal, then the chain skipped.
    bypass: HostBypass,
    /// The editor's size and whether it is open (meters run only while someone looks).
    editor_state: Arc<EguiEditorState>,
    /// Nothing has sounded since activation or a reset: the first block's values apply at once
    /// (hosts deliver parameter changes with the next block, after the reset).
    fresh: bool,
    /// Analyze & Mix: the audio thread's end of the capture ring, the state the threads share,
    /// and the worker (started at the first activation).
    capture: CaptureSender,
    shared: Arc<Shared>,
    worker: Option<Worker>,
    /// Debug builds only, for the realtime test: allocate in every `process()` (set from
    /// `AUTOMIX_TEST_ALLOCATE_IN_PROCESS` when the plug-in is made), to prove that nice-plug's
    /// allocation check is armed in the very build the test runs.
    #[cfg(debug_assertions)]
    allocate_in_process: bool,
}

impl Default for VocalAutomix {
    fn default() -> Self {
        let shared = Arc::new(Shared::default());
        VocalAutomix {
            capture: CaptureSender::new(),
            shared,
            worker: None,
            params: Arc::new(AutomixParams::default()),
            chain: VocalChain::new(),
            values: MixParams::default(),
            applied: MixParams::default(),
            scratch: Vec::new(),
            dry: [Vec::new(), Vec::new()],
            ab: LoudnessMatch::new(48_000.0),
            bypass: HostBypass::new(48_000.0, false),
            editor_state: editor::default_state(),
            fresh: true,
            #[cfg(debug_assertions)]
            allocate_in_process: std::env::var_os("AUTOMIX_TEST_ALLOCATE_IN_PROCESS").is_some(),
        }
    }
}

impl Plugin for VocalAutomix {
    const NAME: &'static str = "Vocal Automix";
    const VENDOR: &'static str = "Vocal Automix developers";
    const URL: &'static str = "https://example.invalid/vocal-automix";
    const EMAIL: &'static str = "vocal-automix@example.invalid";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");

    const AUDIO_IO_LAYOUTS: &'static [AudioIOLayout] = &[
        AudioIOLayout {
            main_input_channels: STEREO,
            main_output_channels: STEREO,
            aux_input_ports: SIDECHAIN,
            aux_output_ports: &[],
            names: PortNames {
                layout: Some("Stereo"),
                main_input: Some("Vocal"),
                main_output: Some("Output"),
                aux_inputs: SIDECHAIN_NAME,
                aux_outputs: &[],
            },
        },
        AudioIOLayout {
            main_input_channels: MONO,
            main_output_channels: MONO,
            aux_input_ports: SIDECHAIN,
            aux_output_ports: &[],
            names: PortNames {
                layout: Some("Mono"),
                main_input: Some("Vocal"),
                main_output: Some("Output"),
                aux_inputs: SIDECHAIN_NAME,
                aux_outputs: &[],
            },
        },
    ];

    // A parameter change lands on its own sample: the host's block is split there (a step in an
    // automation lane starts where it is drawn, not up to a block earlier; tests/daw/ardour.rs
    // hears it in Ardour's export). The engine's smoothing then glides from that sample on.
    const SAMPLE_ACCURATE_AUTOMATION: bool = true;

    type SysExMessage = ();
    type BackgroundTask = MainTask;
    type Editor = nice_plug_egui::EguiEditor<editor::AutomixEditor>;

    fn params(&self) -> Arc<dyn Params> {
        self.params.clone()
    }

    fn filter_state(state: &mut PluginState) {
        saved_state::filter(state);
    }

    fn task_executor(&mut self) -> TaskExecutor<Self> {
        let (shared, params) = (self.shared.clone(), self.params.clone());
        Box::new(move |task| main_thread::run(task, &shared, &params))
    }

    /// The editor; the executor it is given is also how the worker reaches the main thread.
    fn editor(&mut self, executor: AsyncExecutor<Self>) -> Option<Self::Editor> {
        *self.shared.main.lock() = Some(Box::new(move |task| executor.execute_gui(task)));
        editor::create(
            self.params.clone(),
            self.shared.clone(),
            self.editor_state.clone(),
        )
    }

    /// The rates the chain runs at (`VocalChain::prepare` refuses the others).
    fn accepts_sample_rate(sample_rate: f32) -> bool {
        (engine::dsp::chain::MIN_SAMPLE_RATE..=engine::dsp::chain::MAX_SAMPLE_RATE)
            .contains(&sample_rate)
    }

    fn host_context(&mut self, context: nice_plug::context::gui::GuiContext) {
        *self.shared.context.lock() = Some(context);
    }

    fn activate(
        &mut self,
        _layout: &AudioIOLayout,
        config: &BufferConfig,
        _context: &mut impl ActivateContext<Self>,
    ) -> bool {
        self.params.read_into(&mut self.values);
        self.shared
            .restore(self.params.settings.read().last_mix.as_ref());
        self.chain.set_params_immediate(&self.values);
        self.applied.clone_from(&self.values);
        let frames = config.max_buffer_size.max(1) as usize;
        self.scratch = vec![0.0; frames];
        self.dry = [vec![0.0; frames], vec![0.0; frames]];
        self.ab = LoudnessMatch::new(config.sample_rate);
        self.bypass = HostBypass::new(config.sample_rate, self.params.bypassed());
        self.fresh = true;
        let ring = self.capture.open(
            config.sample_rate,
            config.process_mode == ProcessMode::Offline,
        );
        *self.shared.new_ring.lock() = Some((ring, config.sample_rate));
        if self.worker.is_none() {
            // without a worker the plug-in still mixes; Analyze & Mix says it cannot run
            match Worker::spawn(self.shared.clone(), self.params.clone()) {
                Ok(w) => self.worker = Some(w),
                Err(e) => self.shared.update(|s| {
                    s.phase = session::Phase::Failed;
                    s.message = format!("Analyze & Mix cannot start its thread: {e}");
                }),
            }
        }
        self.chain.prepare(config.sample_rate).is_ok()
    }

    fn deactivate(&mut self) {
        self.capture.close();
    }

    /// A fresh start (the host's reset, a new playback pass): memory cleared, and the next block's
    /// values apply at once, without a glide from whatever was set before.
    fn reset(&mut self) {
        self.chain.reset();
        self.fresh = true;
    }

    fn process(
        &mut self,
        buffer: &mut Buffer,
        aux: &mut AuxiliaryBuffers,
        context: &mut impl ProcessContext<Self>,
    ) -> ProcessStatus {
        #[cfg(debug_assertions)]
        if self.allocate_in_process {
            std::hint::black_box(vec![0u8; 64]);
        }
        self.take_host_values();
        self.capture.set_offline_now(context.offline_now());
        self.capture_block(buffer, aux, context.transport());
        let bypassed = self.params.bypassed();
        let fading = match self.bypass.plan(bypassed) {
            Plan::Skip { reset } => {
                // the input passes untouched; the chain starts clean when the button is released
                if reset {
                    self.chain.reset();
                }
                return ProcessStatus::Normal;
            }
            Plan::Fade => true,
            Plan::Run => false,
        };
        let unprocessed = self.shared.unprocessed.load(Ordering::Relaxed);
        // A/B measures while someone looks or listens; otherwise it costs nothing
        let matching = unprocessed || self.ab.is_active() || self.editor_state.is_open();
        // the ride follows the sidechain (a host without one gives none: the static level)
        let backing = sidechain(aux);
        let keep_dry = matching || fading;
        match buffer.as_slice() {
            [l, r, ..] if keep_dry && l.len() <= self.dry[0].len() => {
                let n = l.len();
                let [dl, dr] = &mut self.dry;
                dl[..n].copy_from_slice(l);
                dr[..n].copy_from_slice(r);
                self.chain.process_stereo_with(l, r, backing);
                if matching {
                    self.ab.process([&dl[..n], &dr[..n]], [l, r], unprocessed);
                }
                if fading {
                    self.bypass.mix([&dl[..n], &dr[..n]], [l, r], bypassed);
                }
            }
            [l, r, ..] => self.chain.process_stereo_with(l, r, backing),
            [_] if self.scratch.is_empty() => {} // not activated: nothing to run
            [mono] => {
                let fade = fading.then_some(bypassed);
                self.process_mono(mono, backing, keep_dry, (matching, unprocessed), fade);
            }
            [] => {}
        }
        if matching {
            self.publish_meters();
        }
        ProcessStatus::Normal
    }
}

impl VocalAutomix {
    /// The host's values, handed to the chain when they changed (at once after a reset).
    fn take_host_values(&mut self) {
        self.params.read_into(&mut self.values);
        if std::mem::take(&mut self.fresh) {
            self.chain.set_params_immediate(&self.values);
            self.applied.clone_from(&self.values);
        } else if self.values != self.applied {
            self.chain.set_params(&self.values);
            self.applied.clone_from(&self.values);
        }
    }

    /// A mono track: the chain's stereo result folded back to one channel, in pieces of the
    /// scratch buffer's length; `ab` is (A/B measuring, unprocessed heard); `fade`, while the
    /// host's bypass fades, whether it is down.
    fn process_mono(
        &mut self,
        mono: &mut [f32],
        backing: Option<[&[f32]; 2]>,
        keep_dry: bool,
        (matching, unprocessed): (bool, bool),
        fade: Option<bool>,
    ) {
        let step = self.scratch.len().max(1);
        for (k, block) in mono.chunks_mut(step).enumerate() {
            let n = block.len();
            let dry = &mut self.dry[0][..n];
            if keep_dry {
                dry.copy_from_slice(block);
            }
            let r = &mut self.scratch[..n];
            let at = k * step;
            let piece = backing
                .filter(|[bl, br]| bl.len() >= at + n && br.len() >= at + n)
                .map(|[bl, br]| [&bl[at..at + n], &br[at..at + n]]);
            self.chain.process_mono_with(block, r, piece);
            for (x, y) in block.iter_mut().zip(r.iter()) {
                *x = 0.5 * (*x + *y);
            }
            if matching {
                // A/B works on a pair: the folded channel twice
                r.copy_from_slice(block);
                self.ab.process([dry, dry], [block, r], unprocessed);
            }
            if let Some(bypassed) = fade {
                r.copy_from_slice(block);
                self.bypass.mix([dry, dry], [block, r], bypassed);
            }
        }
    }

    /// The meters the editor draws, from this block.
    fn publish_meters(&mut self) {
        let meters = &self.shared.meters;
        let gr = self.chain.take_gain_reduction_meter_db();
        meters.gain_reduction_db.fetch_min(gr, Ordering::Relaxed);
        let de_essed = self.chain.take_de_esser_meter_db();
        meters.de_esser_db.fetch_min(de_essed, Ordering::Relaxed);
        meters
            .ride_gain_db
            .store(self.chain.ride_gain_db(), Ordering::Relaxed);
        meters
            .match_gain_db
            .store(self.ab.gain_db(), Ordering::Relaxed);
    }

    /// Hands the dry vocal and the sidechain to Analyze & Mix (before the chain changes them).
    fn capture_block(&mut self, buffer: &Buffer, aux: &AuxiliaryBuffers, transport: &Transport) {
        // a host that tells nothing of a transport (live input) counts as playing
        let known = transport.tempo.is_some()
            || transport.pos_samples().is_some()
            || transport.pos_beats().is_some();
        let info = BlockInfo {
            on: self.params.analyze_on(),
            playing: transport.playing || !known,
            tempo: transport.tempo,
        };
        let vocal = match buffer.as_slice_immutable() {
            [l, r, ..] => [&**l, &**r],
            [m] => [&**m, &**m],
            [] => return,
        };
        let backing = sidechain(aux);
        self.capture.block(info, vocal, backing);
    }
}

/// The backing on the sidechain as a pair (a mono sidechain on both sides); `None` when the host
/// connects none. What the ride follows and what Analyze & Mix captures.
fn sidechain<'a>(aux: &'a AuxiliaryBuffers) -> Option<[&'a [f32]; 2]> {
    aux.inputs
        .first()
        .and_then(|b| match b.as_slice_immutable() {
            [l, r, ..] => Some([&**l, &**r]),
            [m] => Some([&**m, &**m]),
            [] => None,
        })
}

impl ClapPlugin for VocalAutomix {
    const CLAP_ID: &'static str = "org.vocal-automix.vocal-automix";
    const CLAP_DESCRIPTION: Option<&'static str> =
        Some("Mixes a lead vocal against its backing track: EQ, compressor, reverb, level");
    const CLAP_MANUAL_URL: Option<&'static str> = None;
    const CLAP_SUPPORT_URL: Option<&'static str> = None;
    const CLAP_FEATURES: &'static [ClapFeature] = &[
        ClapFeature::AudioEffect,
        ClapFeature::Stereo,
        ClapFeature::Mono,
        ClapFeature::Mixing,
    ];
}

impl Vst3Plugin for VocalAutomix {
    const VST3_CLASS_ID: [u8; 16] = *b"VocalAutomix0001";
    const VST3_SUBCATEGORIES: &'static [Vst3SubCategory] =
        &[Vst3SubCategory::Fx, Vst3SubCategory::Tools];
}

nice_export_clap!(VocalAutomix);
nice_export_vst3!(VocalAutomix);
