//! A minimal VST3 host on the `vst3` crate's bindings, for calling the real bundle as a careless
//! host would: audio before `setupProcessing` or `setActive`, a block longer than announced, no
//! sidechain bus, a one-channel sidechain. The Python hosts (DawDreamer, pedalboard) never make
//! those calls. One instance per [`Vst3Plugin`]; the component is its own edit controller, as
//! nice-plug builds it.

use std::ffi::c_void;
use std::path::Path;

use vst3::Steinberg::Vst::{
    AudioBusBuffers, AudioBusBuffers__type0, IAudioProcessor, IAudioProcessorTrait, IComponent,
    IComponentTrait, IEditController, IEditControllerTrait, ParameterInfo, ProcessData,
    ProcessSetup,
};
use vst3::Steinberg::{
    IPluginBaseTrait, IPluginFactory, IPluginFactoryTrait, PClassInfo, kResultOk, tresult,
};
use vst3::{ComPtr, Interface};

/// What a process call hands the plug-in's sidechain bus.
#[derive(Clone, Copy, Debug)]
pub enum Sidechain<'a> {
    /// A stereo bus with these channels.
    Stereo(&'a [Vec<f32>; 2]),
    /// One channel on the bus (a mono send).
    Mono(&'a [f32]),
    /// `numInputs` = 1: the host passes the main bus only.
    Absent,
}

pub struct Vst3Plugin {
    component: ComPtr<IComponent>,
    processor: ComPtr<IAudioProcessor>,
    controller: ComPtr<IEditController>,
    // the library outlives the objects made from it (fields drop in order)
    _library: libloading::Library,
}

type GetFactory = unsafe extern "system" fn() -> *mut IPluginFactory;
type ModuleEntry = unsafe extern "C" fn(*mut c_void) -> bool;

impl Vst3Plugin {
    /// Loads `bundle` (`….vst3`, its Linux x86-64 library) and makes its first class, initialised.
    pub fn load(bundle: &Path) -> Result<Vst3Plugin, String> {
        let name = bundle
            .file_stem()
            .ok_or("a bundle path without a name")?
            .to_string_lossy()
            .into_owned();
        let so = bundle.join(format!("Contents/x86_64-linux/{name}.so"));
        // SAFETY: the library is the plug-in under test; its entry points have the VST3 module
        // signatures, and every object made from it is dropped before it (field order)
        unsafe {
            let library =
                libloading::Library::new(&so).map_err(|e| format!("{}: {e}", so.display()))?;
            let entry: libloading::Symbol<ModuleEntry> =
                library.get(b"ModuleEntry\0").map_err(|e| e.to_string())?;
            if !entry(std::ptr::null_mut()) {
                return Err("ModuleEntry failed".into());
            }
            let get: libloading::Symbol<GetFactory> = library
                .get(b"GetPluginFactory\0")
                .map_err(|e| e.to_string())?;
            let factory = ComPtr::from_raw(get()).ok_or("no plug-in factory")?;
            let mut info: PClassInfo = std::mem::zeroed();
            check(factory.getClassInfo(0, &mut info), "getClassInfo")?;
            let mut object: *mut c_void = std::ptr::null_mut();
            check(
                factory.createInstance(
                    info.cid.as_ptr(),
                    IComponent::IID.as_ptr() as *const i8,
                    &mut object,
                ),
                "createInstance",
            )?;
            let component =
                ComPtr::from_raw(object as *mut IComponent).ok_or("no component made")?;
            check(component.initialize(std::ptr::null_mut()), "initialize")?;
            let processor = component
                .cast::<IAudioProcessor>()
                .ok_or("no IAudioProcessor")?;
            let controller = component
                .cast::<IEditController>()
                .ok_or("no IEditController")?;
            Ok(Vst3Plugin {
                component,
                processor,
                controller,
                _library: library,
            })
        }
    }

    pub fn setup(&self, rate: f64, max_block: i32) -> tresult {
        let mut setup = ProcessSetup {
            processMode: vst3::Steinberg::Vst::ProcessModes_::kRealtime as i32,
            symbolicSampleSize: vst3::Steinberg::Vst::SymbolicSampleSizes_::kSample32 as i32,
            maxSamplesPerBlock: max_block,
            sampleRate: rate,
        };
        // SAFETY: a valid setup, alive for the call
        unsafe { self.processor.setupProcessing(&mut setup) }
    }

    pub fn set_active(&self, on: bool) -> tresult {
        // SAFETY: a plain call on a live component
        unsafe { self.component.setActive(on as u8) }
    }

    pub fn set_processing(&self, on: bool) -> tresult {
        // SAFETY: a plain call on a live processor
        unsafe { self.processor.setProcessing(on as u8) }
    }

    /// The parameter titled `title`: its ID.
    pub fn param(&self, title: &str) -> Option<u32> {
        // SAFETY: plain calls on a live controller, into a zeroed info it fills
        unsafe {
            (0..self.controller.getParameterCount()).find_map(|i| {
                let mut info: ParameterInfo = std::mem::zeroed();
                (self.controller.getParameterInfo(i, &mut info) == kResultOk
                    && String::from_utf16_lossy(&info.title)
                        .trim_end_matches('\0')
                        .eq(title))
                .then_some(info.id)
            })
        }
    }

    /// Sets a parameter through the controller, normalised (applied at once while not
    /// processing).
    pub fn set_param(&self, id: u32, normalised: f64) -> tresult {
        // SAFETY: a plain call on a live controller
        unsafe { self.controller.setParamNormalized(id, normalised) }
    }

    /// One process call over `main` (in place: the output replaces it), with `sidechain`.
    pub fn process(&self, main: &mut [Vec<f32>; 2], sidechain: Sidechain) -> tresult {
        let frames = main[0].len().min(main[1].len());
        let mut input = main.clone();
        let mut in_ptrs: Vec<*mut f32> = input.iter_mut().map(|c| c.as_mut_ptr()).collect();
        let mut out_ptrs: Vec<*mut f32> = main.iter_mut().map(|c| c.as_mut_ptr()).collect();
        let mut side: Vec<Vec<f32>> = match sidechain {
            Sidechain::Stereo(s) => s.iter().map(|c| c[..frames].to_vec()).collect(),
            Sidechain::Mono(m) => vec![m[..frames].to_vec()],
            Sidechain::Absent => Vec::new(),
        };
        let mut side_ptrs: Vec<*mut f32> = side.iter_mut().map(|c| c.as_mut_ptr()).collect();
        let bus = |ptrs: &mut Vec<*mut f32>| AudioBusBuffers {
            numChannels: ptrs.len() as i32,
            silenceFlags: 0,
            __field0: AudioBusBuffers__type0 {
                channelBuffers32: ptrs.as_mut_ptr(),
            },
        };
        let mut inputs = vec![bus(&mut in_ptrs)];
        if !matches!(sidechain, Sidechain::Absent) {
            inputs.push(bus(&mut side_ptrs));
        }
        let mut outputs = [bus(&mut out_ptrs)];
        let mut data = ProcessData {
            processMode: vst3::Steinberg::Vst::ProcessModes_::kRealtime as i32,
            symbolicSampleSize: vst3::Steinberg::Vst::SymbolicSampleSizes_::kSample32 as i32,
            numSamples: frames as i32,
            numInputs: inputs.len() as i32,
            numOutputs: 1,
            inputs: inputs.as_mut_ptr(),
            outputs: outputs.as_mut_ptr(),
            inputParameterChanges: std::ptr::null_mut(),
            outputParameterChanges: std::ptr::null_mut(),
            inputEvents: std::ptr::null_mut(),
            outputEvents: std::ptr::null_mut(),
            processContext: std::ptr::null_mut(),
        };
        // SAFETY: every pointer in `data` points into buffers alive until the call returns,
        // each `frames` long
        unsafe { self.processor.process(&mut data) }
    }
}

impl Drop for Vst3Plugin {
    fn drop(&mut self) {
        // SAFETY: plain calls on a live component, in the order a host ends it
        unsafe {
            self.processor.setProcessing(0);
            self.component.setActive(0);
            self.component.terminate();
        }
    }
}

fn check(result: tresult, what: &str) -> Result<(), String> {
    if result == kResultOk {
        Ok(())
    } else {
        Err(format!("{what} returned {result}"))
    }
}
