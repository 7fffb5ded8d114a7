//! A minimal CLAP host (on `clack-host`) for tests: loads a `.clap` file, lists its audio ports and
//! parameters, converts values to and from text through the plug-in, processes audio with a
//! sidechain, and saves and loads its state. Single-threaded: the "audio thread" is the caller's.

use std::ffi::CString;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};

use clack_extensions::audio_ports::{AudioPortInfoBuffer, PluginAudioPorts};
use clack_extensions::audio_ports_config::{AudioPortsConfigBuffer, PluginAudioPortsConfig};
use clack_extensions::gui::{
    GuiApiType, GuiConfiguration, GuiSize, HostGui, HostGuiImpl, PluginGui, Window,
};
use clack_extensions::params::{
    HostParams, HostParamsImplMainThread, HostParamsImplShared, ParamClearFlags, ParamInfoBuffer,
    ParamRescanFlags, PluginParams,
};
use clack_extensions::state::PluginState;
use clack_host::events::EventFlags;
use clack_host::events::event_types::{ParamValueEvent, TransportEvent, TransportFlags};
use clack_host::events::spaces::CoreEventSpace;
use clack_host::prelude::*;
use clack_host::utils::FixedPoint;

pub use clack_host::utils::ClapId;

/// CLAP calls a plug-in's main-thread functions from one thread, the host's; a test process runs
/// tests on several. Each test holds this for its whole life, so the plug-ins it loads see one
/// main thread at a time, as in a real host (without it, parallel tests crashed the plug-in).
pub fn host_main_thread() -> std::sync::MutexGuard<'static, ()> {
    static MAIN: std::sync::Mutex<()> = std::sync::Mutex::new(());
    MAIN.lock().unwrap_or_else(|e| e.into_inner())
}

/// What the plug-in asked of the host from any thread.
#[derive(Default)]
pub struct TestHostShared {
    /// A main-thread callback is wanted (nice-plug's tasks for the main thread wait on it).
    callback: AtomicBool,
    /// The size the plug-in's editor last asked for.
    pub requested_size: std::sync::Mutex<Option<(u32, u32)>>,
}

impl HostGuiImpl for TestHostShared {
    fn resize_hints_changed(&self) {}
    fn request_resize(&self, new_size: GuiSize) -> Result<(), HostError> {
        *self.requested_size.lock().unwrap() = Some((new_size.width, new_size.height));
        Ok(())
    }
    fn request_show(&self) -> Result<(), HostError> {
        Ok(())
    }
    fn request_hide(&self) -> Result<(), HostError> {
        Ok(())
    }
    fn closed(&self, _was_destroyed: bool) {}
}

impl<'a> SharedHandler<'a> for TestHostShared {
    fn request_restart(&self) {}
    fn request_process(&self) {}
    fn request_callback(&self) {
        self.callback.store(true, Ordering::SeqCst);
    }
}

impl HostParamsImplShared for TestHostShared {
    // the tests keep processing while they wait, which sends what a flush would
    fn request_flush(&self) {}
}

/// The host's main-thread side: it hears of parameter rescans (nothing to redraw here).
pub struct TestHostMain;

impl MainThreadHandler<'_> for TestHostMain {}

impl HostParamsImplMainThread for TestHostMain {
    fn rescan(&self, _flags: ParamRescanFlags) {}
    fn clear(&self, _param_id: ClapId, _flags: ParamClearFlags) {}
}

pub struct TestHost;

impl HostHandlers for TestHost {
    type Shared<'a> = TestHostShared;
    type MainThread<'a> = TestHostMain;
    type AudioProcessor<'a> = ();

    fn declare_extensions(builder: &mut HostExtensions<Self>, _shared: &Self::Shared<'_>) {
        builder.register::<HostParams>().register::<HostGui>();
    }
}

/// One audio port as the plug-in describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Port {
    pub name: String,
    pub channels: u32,
}

/// One parameter as the plug-in describes it.
#[derive(Clone, Debug)]
pub struct Param {
    pub id: ClapId,
    pub name: String,
    pub module: String,
    pub min: f64,
    pub max: f64,
    pub default: f64,
}

pub struct Loaded {
    // the instance must go before the entry that made it
    instance: PluginInstance<TestHost>,
    _entry: PluginEntry,
    pub name: String,
    /// The mono configuration is selected: one main channel in and out.
    mono: bool,
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

impl Loaded {
    /// Loads the first plug-in of the `.clap` file at `path`.
    pub fn load(path: &Path) -> Result<Loaded, String> {
        let info = HostInfo::new(
            "Vocal Automix test host",
            "Vocal Automix",
            "https://example.invalid",
            "0.1",
        )
        .map_err(|e| format!("host info: {e:?}"))?;
        // SAFETY: loading a plug-in runs its code; the test trusts the bundle it built.
        let entry = unsafe { PluginEntry::load(path) }
            .map_err(|e| format!("cannot load {}: {e:?}", path.display()))?;
        let factory = entry
            .get_plugin_factory()
            .ok_or("the bundle has no plug-in factory")?;
        let descriptor = factory
            .plugin_descriptors()
            .next()
            .ok_or("the bundle holds no plug-in")?;
        let id = descriptor.id().ok_or("a plug-in without an ID")?.to_owned();
        let name = descriptor
            .name()
            .map(|n| text(n.to_bytes()))
            .unwrap_or_default();
        let instance = PluginInstance::<TestHost>::new(
            |_| TestHostShared::default(),
            |_| TestHostMain,
            &entry,
            &id,
            &info,
        )
        .map_err(|e| format!("cannot instantiate: {e:?}"))?;
        Ok(Loaded {
            instance,
            _entry: entry,
            name,
            mono: false,
        })
    }

    /// Opens the plug-in's editor embedded in the X11 window `parent`, at `scale`; its size in
    /// pixels.
    ///
    /// # Safety
    /// `parent` must stay a valid window until [`Loaded::close_editor`].
    pub unsafe fn open_editor(&mut self, parent: u32, scale: f64) -> Result<(u32, u32), String> {
        let handle = self.instance.plugin_handle();
        let gui = handle
            .get_extension::<PluginGui>()
            .ok_or("the plug-in has no editor")?;
        let config = GuiConfiguration {
            api_type: GuiApiType::X11,
            is_floating: false,
        };
        if !gui.is_api_supported(&handle, config) {
            return Err("the editor does not embed in X11".into());
        }
        gui.create(&handle, config)
            .map_err(|e| format!("create: {e:?}"))?;
        // a host on X11 says its scale; a plug-in may decline and follow the system instead
        let _ = gui.set_scale(&handle, scale);
        let size = gui.get_size(&handle).ok_or("the editor has no size")?;
        // SAFETY: the caller keeps the window alive until close_editor.
        unsafe { gui.set_parent(&handle, Window::from_x11_handle(parent as _)) }
            .map_err(|e| format!("set_parent: {e:?}"))?;
        gui.show(&handle).map_err(|e| format!("show: {e:?}"))?;
        Ok((size.width, size.height))
    }

    /// Asks the open editor to take `size` (pixels); the size it took.
    pub fn resize_editor(&mut self, size: (u32, u32)) -> Result<(u32, u32), String> {
        let handle = self.instance.plugin_handle();
        let gui = handle.get_extension::<PluginGui>().ok_or("no editor")?;
        if !gui.can_resize(&handle) {
            return Err("the editor cannot be resized".into());
        }
        let want = GuiSize {
            width: size.0,
            height: size.1,
        };
        let size = gui.adjust_size(&handle, want).unwrap_or(want);
        gui.set_size(&handle, size)
            .map_err(|e| format!("set_size: {e:?}"))?;
        Ok((size.width, size.height))
    }

    pub fn close_editor(&mut self) {
        let handle = self.instance.plugin_handle();
        if let Some(gui) = handle.get_extension::<PluginGui>() {
            gui.destroy(&handle);
        }
    }

    /// The plug-in's port configurations by name, and selects the one named `name` (before
    /// activation, as a host does when the track's channel count changes).
    pub fn select_ports_config(&mut self, name: &str) -> Result<Vec<String>, String> {
        let handle = self.instance.plugin_handle();
        let ext = handle
            .get_extension::<PluginAudioPortsConfig>()
            .ok_or("the plug-in offers no port configurations")?;
        let mut names = Vec::new();
        let mut chosen = None;
        for i in 0..ext.count(&handle) {
            let mut buffer = AudioPortsConfigBuffer::new();
            if let Some(c) = ext.get(&handle, i, &mut buffer) {
                let n = text(c.name);
                if n == name {
                    chosen = Some(c.id);
                }
                names.push(n);
            }
        }
        let id = chosen.ok_or_else(|| format!("no configuration {name:?} among {names:?}"))?;
        ext.select(&handle, id)
            .map_err(|e| format!("select {name}: {e:?}"))?;
        self.mono = name == "Mono";
        Ok(names)
    }

    pub fn ports(&mut self, input: bool) -> Vec<Port> {
        let handle = self.instance.plugin_handle();
        let Some(ext) = handle.get_extension::<PluginAudioPorts>() else {
            return Vec::new();
        };
        let mut buf = AudioPortInfoBuffer::default();
        (0..ext.count(&handle, input))
            .filter_map(|i| {
                ext.get(&handle, i, input, &mut buf).map(|p| Port {
                    name: text(p.name),
                    channels: p.channel_count,
                })
            })
            .collect()
    }

    pub fn params(&mut self) -> Vec<Param> {
        let handle = self.instance.plugin_handle();
        let Some(ext) = handle.get_extension::<PluginParams>() else {
            return Vec::new();
        };
        let mut buf = ParamInfoBuffer::new();
        (0..ext.count(&handle))
            .filter_map(|i| {
                ext.get_info(&handle, i, &mut buf).map(|p| Param {
                    id: p.id,
                    name: text(p.name),
                    module: text(p.module),
                    min: p.min_value,
                    max: p.max_value,
                    default: p.default_value,
                })
            })
            .collect()
    }

    pub fn value(&mut self, id: ClapId) -> Option<f64> {
        let handle = self.instance.plugin_handle();
        handle
            .get_extension::<PluginParams>()?
            .get_value(&handle, id)
    }

    pub fn value_to_text(&mut self, id: ClapId, value: f64) -> Option<String> {
        let handle = self.instance.plugin_handle();
        let ext = handle.get_extension::<PluginParams>()?;
        let mut buf = [0u8; 256];
        ext.value_to_text(&handle, id, value, &mut buf)
            .ok()
            .map(|b| text(b))
    }

    pub fn text_to_value(&mut self, id: ClapId, s: &str) -> Option<f64> {
        let handle = self.instance.plugin_handle();
        let ext = handle.get_extension::<PluginParams>()?;
        ext.text_to_value(&handle, id, &CString::new(s).ok()?)
    }

    pub fn save_state(&mut self) -> Result<Vec<u8>, String> {
        let handle = self.instance.plugin_handle();
        let ext = handle
            .get_extension::<PluginState>()
            .ok_or("no state extension")?;
        let mut out = Vec::new();
        ext.save(&handle, &mut out)
            .map_err(|e| format!("save: {e:?}"))?;
        Ok(out)
    }

    pub fn load_state(&mut self, bytes: &[u8]) -> Result<(), String> {
        let handle = self.instance.plugin_handle();
        let ext = handle
            .get_extension::<PluginState>()
            .ok_or("no state extension")?;
        let mut reader = bytes;
        ext.load(&handle, &mut reader)
            .map_err(|e| format!("load: {e:?}"))
    }

    /// Calls the plug-in's `process()` straight through its C table, as a broken host would
    /// without activating it first: `frames` of silence in and out (stereo, no sidechain).
    /// Returns the plug-in's status code (`CLAP_PROCESS_ERROR` is 0).
    pub fn process_without_activation(&mut self, frames: u32) -> i32 {
        use clap_sys::audio_buffer::clap_audio_buffer;
        use clap_sys::process::clap_process;
        let mut left = vec![0.0f32; frames as usize];
        let mut right = vec![0.0f32; frames as usize];
        let mut out_l = vec![0.0f32; frames as usize];
        let mut out_r = vec![0.0f32; frames as usize];
        let mut ins = [left.as_mut_ptr(), right.as_mut_ptr()];
        let mut outs = [out_l.as_mut_ptr(), out_r.as_mut_ptr()];
        let input = clap_audio_buffer {
            data32: ins.as_mut_ptr(),
            data64: std::ptr::null_mut(),
            channel_count: 2,
            latency: 0,
            constant_mask: 0,
        };
        let mut output = clap_audio_buffer {
            data32: outs.as_mut_ptr(),
            data64: std::ptr::null_mut(),
            channel_count: 2,
            latency: 0,
            constant_mask: 0,
        };
        let process = clap_process {
            steady_time: -1,
            frames_count: frames,
            transport: std::ptr::null(),
            audio_inputs: &input,
            audio_outputs: &mut output,
            audio_inputs_count: 1,
            audio_outputs_count: 1,
            in_events: std::ptr::null(),
            out_events: std::ptr::null(),
        };
        let plugin = self.instance.raw_instance();
        let f = plugin.process.expect("a process function");
        // SAFETY: the buffers and the process struct outlive the call; the plug-in is this
        // instance's own.
        unsafe { f(plugin, &process) }
    }

    /// Runs the main-thread callback if the plug-in asked for one (a host does this from its
    /// event loop); true if it ran.
    pub fn main_thread_tick(&mut self) -> bool {
        let wanted = self
            .instance
            .access_shared_handler(|s| s.callback.swap(false, Ordering::SeqCst));
        if wanted {
            self.instance.call_on_main_thread_callback();
        }
        wanted
    }

    /// Activates at `rate` for blocks of up to `block` frames; audio goes through [`Stream::run`].
    pub fn stream(&mut self, rate: f64, block: usize) -> Result<Stream<'_>, String> {
        let config = PluginAudioConfiguration {
            sample_rate: rate,
            min_frames_count: 1,
            max_frames_count: block as u32,
        };
        let processor = self
            .instance
            .activate(|_, _| (), config)
            .map_err(|e| format!("activate: {e:?}"))?
            .start_processing()
            .map_err(|e| format!("start: {e:?}"))?;
        Ok(Stream {
            loaded: self,
            processor: Some(processor),
            rate,
            block,
            steady: 0,
            output: Vec::new(),
        })
    }

    /// Activates at `rate`, processes `main` (stereo) with `sidechain` (stereo, or silence) in
    /// blocks of `block`, with `set` parameter values sent as events at the start, and deactivates.
    pub fn process(
        &mut self,
        rate: f64,
        block: usize,
        main: &[Vec<f32>; 2],
        sidechain: Option<&[Vec<f32>; 2]>,
        set: &[(ClapId, f64)],
    ) -> Result<[Vec<f32>; 2], String> {
        let mut stream = self.stream(rate, block)?;
        let side = sidechain.map(|s| [&s[0][..], &s[1][..]]);
        stream.run([&main[0], &main[1]], side, set, None)
    }
}

/// The release bundle (`target/bundled/Vocal Automix.clap`), or `None` after saying loudly that it
/// is not built; with `AUTOMIX_REQUIRE_PLUGIN` set (CI sets it) a missing bundle fails the test.
pub fn release_bundle() -> Option<std::path::PathBuf> {
    automix_tests::release_bundle("clap")
}

/// What a block's sidechain port gets.
#[derive(Clone, Copy, Debug)]
pub enum Side<'a> {
    Stereo(&'a [Vec<f32>; 2]),
    /// One channel on the stereo port (a host routing a mono send).
    Mono(&'a [f32]),
    /// The port not connected: the host passes the main port only.
    Absent,
}

/// One fn item for both ports' channel iterators (two closures would be two types); it takes what
/// `iter_mut` over the channels yields.
#[allow(clippy::ptr_arg)]
fn variable(c: &mut Vec<f32>) -> InputChannel<'_, f32> {
    InputChannel::variable(&mut c[..])
}

/// `x` cut or padded with silence to `n` samples.
fn fit(x: &[f32], n: usize) -> Vec<f32> {
    let mut v: Vec<f32> = x.iter().copied().take(n).collect();
    v.resize(n, 0.0);
    v
}

/// The transport as the host reports it with each block.
#[derive(Clone, Copy, Debug)]
pub struct Transport {
    pub playing: bool,
    pub tempo: f64,
}

/// A parameter change the plug-in sent the host (as a user's edit would be).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Sent {
    Begin(ClapId),
    Value(ClapId, f64),
    End(ClapId),
}

/// An activated plug-in taking audio block by block; deactivates when dropped.
pub struct Stream<'a> {
    loaded: &'a mut Loaded,
    processor: Option<StartedPluginAudioProcessor<TestHost>>,
    rate: f64,
    block: usize,
    steady: u64,
    /// Everything the plug-in sent so far, in order.
    pub output: Vec<Sent>,
}

impl Stream<'_> {
    pub fn sample_rate(&self) -> f64 {
        self.rate
    }

    /// The plug-in, between blocks (its parameters, its main-thread work).
    pub fn plugin(&mut self) -> &mut Loaded {
        self.loaded
    }

    /// Processes `main` with `sidechain` (silence when `None`, or where it is shorter) in blocks,
    /// `set` sent with the first; after each block, the main-thread callback the plug-in asked
    /// for, as a host's event loop would run it. Returns the output.
    pub fn run(
        &mut self,
        main: [&[f32]; 2],
        sidechain: Option<[&[f32]; 2]>,
        set: &[(ClapId, f64)],
        transport: Option<Transport>,
    ) -> Result<[Vec<f32>; 2], String> {
        let frames = main[0].len().min(main[1].len());
        let block = self.block;
        let mut out = [vec![0.0f32; frames], vec![0.0f32; frames]];
        let mut input_ports = AudioPorts::with_capacity(4, 2);
        let mut output_ports = AudioPorts::with_capacity(2, 1);
        let mut main_in = [vec![0.0f32; block], vec![0.0f32; block]];
        let mut side_in = [vec![0.0f32; block], vec![0.0f32; block]];
        let mut main_out = [vec![0.0f32; block], vec![0.0f32; block]];
        let mut output_events = EventBuffer::new();
        let mut start = 0;
        while start < frames {
            let n = block.min(frames - start);
            fill_block(
                main,
                sidechain,
                start..start + n,
                &mut main_in,
                &mut side_in,
            );
            let events = param_events(if start == 0 { set } else { &[] });
            let input_events = InputEvents::from_buffer(&events);
            output_events.clear();
            let mut out_events = OutputEvents::from_buffer(&mut output_events);
            let mono = self.loaded.mono;
            let [ml, mr] = &mut main_in;
            let [sl, sr] = &mut side_in;
            let main_channels = [&mut ml[..n], &mut mr[..n]];
            let main_channels = main_channels.into_iter().take(if mono { 1 } else { 2 });
            let input = input_ports.with_input_buffers([
                AudioPortBuffer {
                    latency: 0,
                    channels: AudioPortBufferType::f32_input_only(
                        main_channels.map(InputChannel::variable),
                    ),
                },
                AudioPortBuffer {
                    latency: 0,
                    channels: AudioPortBufferType::f32_input_only(
                        [&mut sl[..n], &mut sr[..n]]
                            .into_iter()
                            .take(2)
                            .map(InputChannel::variable),
                    ),
                },
            ]);
            let [ol, or] = &mut main_out;
            let out_channels = [&mut ol[..n], &mut or[..n]];
            let mut output = output_ports.with_output_buffers([AudioPortBuffer {
                latency: 0,
                channels: AudioPortBufferType::f32_output_only(
                    out_channels.into_iter().take(if mono { 1 } else { 2 }),
                ),
            }]);
            let transport = transport.map(|t| self.transport_event(t));
            self.processor
                .as_mut()
                .ok_or("not processing")?
                .process(
                    &input,
                    &mut output,
                    &input_events,
                    &mut out_events,
                    Some(self.steady),
                    transport.as_ref(),
                )
                .map_err(|e| format!("process: {e:?}"))?;
            // a mono track's one channel is both sides of what this returns
            for (c, o) in out.iter_mut().enumerate() {
                let from = if mono { 0 } else { c };
                o[start..start + n].copy_from_slice(&main_out[from][..n]);
            }
            self.record(&output_events);
            start += n;
            self.steady += n as u64;
            self.loaded.main_thread_tick();
        }
        Ok(out)
    }

    /// One block of any length (even past the maximum announced at activation): `main` (one
    /// channel per main channel of the configuration) is processed in place, `side` is what the
    /// sidechain port gets, `set` goes with it as parameter events. Then the main-thread callback
    /// the plug-in asked for, if any.
    pub fn block(
        &mut self,
        main: &mut [Vec<f32>],
        side: Side<'_>,
        set: &[(ClapId, f64)],
        transport: Option<Transport>,
    ) -> Result<(), String> {
        let n = main.first().map_or(0, Vec::len);
        let mut input: Vec<Vec<f32>> = main.iter().map(|c| c[..n].to_vec()).collect();
        let mut side_in: Vec<Vec<f32>> = match side {
            Side::Stereo(s) => s.iter().map(|c| fit(c, n)).collect(),
            Side::Mono(m) => vec![fit(m, n)],
            Side::Absent => Vec::new(),
        };
        let events: Vec<ParamValueEvent> = set
            .iter()
            .map(|&(id, v)| ParamValueEvent::new(0, id, Pckn::match_all(), v))
            .collect();
        let input_events = InputEvents::from_buffer(&events);
        let mut output_events = EventBuffer::new();
        let mut out_events = OutputEvents::from_buffer(&mut output_events);
        let mut input_ports = AudioPorts::with_capacity(4, 2);
        let mut output_ports = AudioPorts::with_capacity(2, 1);
        let main_port = AudioPortBuffer {
            latency: 0,
            channels: AudioPortBufferType::f32_input_only(input.iter_mut().map(variable)),
        };
        let side_port = AudioPortBuffer {
            latency: 0,
            channels: AudioPortBufferType::f32_input_only(side_in.iter_mut().map(variable)),
        };
        let inputs = if matches!(side, Side::Absent) {
            input_ports.with_input_buffers([main_port])
        } else {
            input_ports.with_input_buffers([main_port, side_port])
        };
        let mut output = output_ports.with_output_buffers([AudioPortBuffer {
            latency: 0,
            channels: AudioPortBufferType::f32_output_only(main.iter_mut().map(|c| &mut c[..n])),
        }]);
        let transport = transport.map(|t| self.transport_event(t));
        self.processor
            .as_mut()
            .ok_or("not processing")?
            .process(
                &inputs,
                &mut output,
                &input_events,
                &mut out_events,
                Some(self.steady),
                transport.as_ref(),
            )
            .map_err(|e| format!("process: {e:?}"))?;
        self.record(&output_events);
        self.steady += n as u64;
        self.loaded.main_thread_tick();
        Ok(())
    }

    /// Keeps the parameter changes the plug-in sent in a block, in order.
    fn record(&mut self, events: &EventBuffer) {
        for e in events.iter() {
            match e.as_core_event() {
                Some(CoreEventSpace::ParamGestureBegin(g)) => {
                    self.output.extend(g.param_id().map(Sent::Begin))
                }
                Some(CoreEventSpace::ParamGestureEnd(g)) => {
                    self.output.extend(g.param_id().map(Sent::End))
                }
                Some(CoreEventSpace::ParamValue(v)) => self
                    .output
                    .extend(v.param_id().map(|id| Sent::Value(id, v.value()))),
                _ => {}
            }
        }
    }

    /// The host's reset (a new playback pass): memory cleared, nothing else changed.
    pub fn reset(&mut self) {
        if let Some(p) = self.processor.as_mut() {
            p.reset();
        }
    }

    fn transport_event(&self, t: Transport) -> TransportEvent {
        let seconds = self.steady as f64 / self.rate;
        let mut flags = TransportFlags::HAS_TEMPO
            | TransportFlags::HAS_BEATS_TIMELINE
            | TransportFlags::HAS_SECONDS_TIMELINE;
        if t.playing {
            flags |= TransportFlags::IS_PLAYING;
        }
        TransportEvent {
            header: EventHeader::new_core(0, EventFlags::empty()),
            flags,
            song_pos_beats: FixedPoint::from_float(seconds * t.tempo / 60.0),
            song_pos_seconds: FixedPoint::from_float(seconds),
            tempo: t.tempo,
            tempo_inc: 0.0,
            loop_start_beats: FixedPoint::from_int(0),
            loop_end_beats: FixedPoint::from_int(0),
            loop_start_seconds: FixedPoint::from_int(0),
            loop_end_seconds: FixedPoint::from_int(0),
            bar_start: FixedPoint::from_int(0),
            bar_number: 0,
            time_signature_numerator: 4,
            time_signature_denominator: 4,
        }
    }
}

impl Drop for Stream<'_> {
    fn drop(&mut self) {
        if let Some(p) = self.processor.take() {
            let stopped = p.stop_processing();
            self.loaded.instance.deactivate(stopped);
        }
    }
}

/// What `examples/save_state.rs` sets before it saves a state (display name, text): the
/// settings the saved-state fixtures in `tests/fixtures/` hold.
pub const FIXTURE_SETTINGS: &[(&str, &str)] = &[
    ("EQ 250 Hz Gain", "-4.0 dB"),
    ("EQ High-pass", "On"),
    ("Comp Ratio", "4.00:1"),
    ("Reverb Time", "3.30 s"),
    ("Reverb FDN Size", "64"),
    ("Vocal Level", "-3.0 dB"),
];

impl Loaded {
    /// Sets parameters by display name and text, through processing as a host's automation
    /// does.
    pub fn set_by_text(&mut self, settings: &[(&str, &str)]) -> Result<(), String> {
        let params = self.params();
        let mut events = Vec::new();
        for (name, text) in settings {
            let p = params
                .iter()
                .find(|p| p.name == *name)
                .ok_or_else(|| format!("no parameter named {name}"))?;
            let v = self
                .text_to_value(p.id, text)
                .ok_or_else(|| format!("{name} does not parse {text:?}"))?;
            events.push((p.id, v));
        }
        let silence = [vec![0.0f32; 256], vec![0.0f32; 256]];
        self.process(48_000.0, 256, &silence, None, &events)?;
        Ok(())
    }

    /// Every parameter's display name and text.
    pub fn texts(&mut self) -> Vec<(String, String)> {
        self.params()
            .into_iter()
            .map(|p| {
                let v = self.value(p.id).unwrap_or(f64::NAN);
                let text = self.value_to_text(p.id, v).unwrap_or_default();
                (p.name, text)
            })
            .collect()
    }
}

/// An X display: the session's, or an Xvfb of our own (stopped on drop).
pub struct Display {
    pub name: String,
    xvfb: Option<Child>,
}

impl Drop for Display {
    fn drop(&mut self) {
        if let Some(x) = &mut self.xvfb {
            let _ = x.kill();
            let _ = x.wait();
        }
    }
}

/// `None` after saying why (loudly; `AUTOMIX_REQUIRE_PLUGIN` makes it a failure).
pub fn display() -> Option<Display> {
    let skip = |why: &str| {
        eprintln!("SKIPPED: {why}");
        if std::env::var_os("AUTOMIX_REQUIRE_PLUGIN").is_some() {
            panic!("AUTOMIX_REQUIRE_PLUGIN is set but {why}");
        }
    };
    if let Some(d) = std::env::var_os("DISPLAY").filter(|d| !d.is_empty()) {
        return Some(Display {
            name: d.to_string_lossy().into_owned(),
            xvfb: None,
        });
    }
    // a free display number: no lock file, and the server we start is the one that answers
    for n in 70..110 {
        if Path::new(&format!("/tmp/.X{n}-lock")).exists() {
            continue;
        }
        let name = format!(":{n}");
        let spawned = Command::new("Xvfb")
            .args([&name, "-screen", "0", "2560x1600x24", "-nolisten", "tcp"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        let Ok(xvfb) = spawned else {
            skip("no DISPLAY and no Xvfb to start (scripts/test.sh installs it)");
            return None;
        };
        let mut display = Display {
            name,
            xvfb: Some(xvfb),
        };
        let started = std::time::Instant::now();
        while started.elapsed() < std::time::Duration::from_secs(10) {
            // the server that answers must be ours: another test may have started one on this
            // number a moment before, and ours then exits, leaving us a display that goes away
            // with the other test (its lock file names the server's process)
            let ours = display.xvfb.as_ref().map(std::process::Child::id);
            let owner = std::fs::read_to_string(format!("/tmp/.X{n}-lock"))
                .ok()
                .and_then(|t| t.trim().parse::<u32>().ok());
            if owner.is_some() && owner == ours && x11rb::connect(Some(&display.name)).is_ok() {
                return Some(display);
            }
            // another test took this number first
            if let Some(Ok(Some(_))) = display.xvfb.as_mut().map(|x| x.try_wait()) {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }
    skip("Xvfb did not start");
    None
}

/// A CLAP state as nice-plug writes it: the JSON's length (8 bytes, little-endian), the JSON.
pub fn state_json(bytes: &[u8]) -> Result<serde_json::Value, String> {
    bytes
        .get(8..)
        .and_then(|j| serde_json::from_slice(j).ok())
        .ok_or_else(|| "not a nice-plug state (length, then JSON)".to_string())
}

/// [`state_json`]'s inverse.
pub fn state_bytes(v: &serde_json::Value) -> Vec<u8> {
    let json = serde_json::to_vec(v).expect("a JSON value serialises");
    let mut out = (json.len() as u64).to_le_bytes().to_vec();
    out.extend(json);
    out
}

/// The plug-in's assistant settings in a state (`assistant_settings`, itself JSON).
pub fn assistant_settings(state: &serde_json::Value) -> Result<serde_json::Value, String> {
    let text = state["fields"]["assistant_settings"]
        .as_str()
        .ok_or("the state holds no assistant settings")?;
    serde_json::from_str(text).map_err(|e| e.to_string())
}

impl Loaded {
    /// Chooses `reference` as the editor's browser does (through the saved settings), and
    /// waits until the plug-in has measured it (it measures on its analysis thread, which runs
    /// once the plug-in has been activated). Returns the state with the measures.
    pub fn choose_reference(
        &mut self,
        reference: &Path,
        timeout: std::time::Duration,
    ) -> Result<serde_json::Value, String> {
        let mut state = state_json(&self.save_state()?)?;
        let mut settings = assistant_settings(&state)?;
        settings["reference"] = serde_json::json!({"path": reference.display().to_string()});
        state["fields"]["assistant_settings"] = settings.to_string().into();
        self.load_state(&state_bytes(&state))?;
        let started = std::time::Instant::now();
        loop {
            let state = state_json(&self.save_state()?)?;
            let s = assistant_settings(&state)?;
            if let Some(p) = s["reference"]["problem"].as_str() {
                return Err(format!("the plug-in refused the reference: {p}"));
            }
            if !s["reference"]["measures"].is_null() {
                return Ok(state);
            }
            if started.elapsed() > timeout {
                return Err("the reference was never measured".into());
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }
}

/// The block `range` of `main` and `sidechain` (silence where it is absent or shorter) copied
/// into the host's input buffers.
fn fill_block(
    main: [&[f32]; 2],
    sidechain: Option<[&[f32]; 2]>,
    range: std::ops::Range<usize>,
    main_in: &mut [Vec<f32>; 2],
    side_in: &mut [Vec<f32>; 2],
) {
    let n = range.len();
    for c in 0..2 {
        main_in[c][..n].copy_from_slice(&main[c][range.clone()]);
        match sidechain {
            Some(s) => {
                for (d, i) in side_in[c][..n].iter_mut().zip(range.clone()) {
                    *d = s[c].get(i).copied().unwrap_or(0.0);
                }
            }
            None => side_in[c][..n].fill(0.0),
        }
    }
}

/// Parameter changes at the start of a block.
fn param_events(set: &[(ClapId, f64)]) -> Vec<ParamValueEvent> {
    set.iter()
        .map(|&(id, v)| ParamValueEvent::new(0, id, Pckn::match_all(), v))
        .collect()
}
