//! `vocal_automix._engine`: the engine on NumPy arrays, through the command line's own code (so
//! a suggestion or a rendered sample equals what `automix` makes of the same files). Every
//! function releases the GIL while the engine works and raises `AutomixError` with the message
//! the command line would print. The Python package (`vocal_automix/__init__.py`) wraps these in
//! typed, documented functions.

mod arrays;
mod files;
mod options;

use automix::analyze;
use automix::audio_io::Audio;
use automix::mix;
use automix::render;
use engine::analysis::references::reference;
use engine::separation::{self, SeparationModels, downmix};
use engine::vad;
use numpy::{PyArray1, PyArray2, PyReadonlyArrayDyn};
use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;

use arrays::{audio_of, to_numpy};
use options::{AssistantOptions, analyze_job, params_of};

create_exception!(
    _engine,
    AutomixError,
    PyException,
    "What the engine refused, in the words `automix` uses."
);

fn fail(message: String) -> PyErr {
    AutomixError::new_err(message)
}

type Warnings = Vec<String>;
/// A (channels, samples) float32 array handed to Python.
type Array<'py> = Bound<'py, PyArray2<f32>>;
/// Probabilities, threshold, hop and window (s), sung stretches (s).
type VadResult<'py> = (Bound<'py, PyArray1<f32>>, f32, f64, f64, Vec<(f64, f64)>);

/// The assistant's suggestion for a vocal (and its backing) as the JSON `automix analyze --json`
/// prints, with the warnings it gave.
#[pyfunction]
fn analyze_json(
    py: Python<'_>,
    vocal: PyReadonlyArrayDyn<'_, f32>,
    backing: Option<PyReadonlyArrayDyn<'_, f32>>,
    rate: u32,
    options: AssistantOptions,
) -> PyResult<(String, Warnings)> {
    let vocal = audio_of(&vocal, rate, "vocal")?;
    let backing = backing.map(|b| audio_of(&b, rate, "backing")).transpose()?;
    py.detach(|| {
        let mut warnings = Vec::new();
        let warn = &mut |w: String| warnings.push(w);
        let job = analyze_job(options, warn)?;
        let vocal_track = analyze::track_of(&vocal).map_err(|e| format!("vocal: {e}"))?;
        let backing_track = backing
            .as_ref()
            .map(|b| analyze::track_of(b).map_err(|e| format!("backing: {e}")))
            .transpose()?;
        let bar = automix::progress::Progress::new("analyzing", 100);
        let s = analyze::suggest_tracks(&job, &vocal_track, backing_track.as_ref(), &bar, warn)?;
        Ok::<_, String>((s.to_json(), warnings))
    })
    .map_err(fail)
}

/// The vocal through the chain with `params_json` (a parameter file's or a suggestion's JSON):
/// the processed vocal (2, n) and, given a backing, the mix.
#[pyfunction]
#[pyo3(signature = (vocal, params_json, rate, backing, tail))]
fn render_arrays<'py>(
    py: Python<'py>,
    vocal: PyReadonlyArrayDyn<'py, f32>,
    params_json: &str,
    rate: u32,
    backing: Option<PyReadonlyArrayDyn<'py, f32>>,
    tail: f32,
) -> PyResult<(Array<'py>, Option<Array<'py>>, Warnings)> {
    if !(0.0..=60.0).contains(&tail) {
        return Err(fail("the tail is 0 to 60 seconds".into()));
    }
    let vocal = audio_of(&vocal, rate, "vocal")?;
    let backing = backing.map(|b| audio_of(&b, rate, "backing")).transpose()?;
    let (rendered, warnings) = py
        .detach(|| {
            let mut warnings = Vec::new();
            let warn = &mut |w: String| warnings.push(w);
            let params = params_of(params_json, warn)?;
            let r = render::render_audio(
                &params,
                tail,
                (vocal, "(array)"),
                backing.map(|b| (b, "(array)".to_string())),
                warn,
                &mut |_| {},
            )?;
            Ok::<_, String>((r, warnings))
        })
        .map_err(fail)?;
    Ok((
        to_numpy(py, &rendered.vocal)?,
        rendered.mix.as_ref().map(|m| to_numpy(py, m)).transpose()?,
        warnings,
    ))
}

/// `automix mix` on arrays: (the mix, the processed vocal, the suggestion's JSON, warnings).
#[pyfunction]
fn mix_arrays<'py>(
    py: Python<'py>,
    vocal: PyReadonlyArrayDyn<'py, f32>,
    backing: PyReadonlyArrayDyn<'py, f32>,
    rate: u32,
    options: AssistantOptions,
) -> PyResult<(Array<'py>, Array<'py>, String, Warnings)> {
    let vocal = audio_of(&vocal, rate, "vocal")?;
    let backing = audio_of(&backing, rate, "backing")?;
    let (suggestion, rendered, warnings) = py
        .detach(|| {
            let mut warnings = Vec::new();
            let warn = &mut |w: String| warnings.push(w);
            let job = analyze_job(options, warn)?;
            let (s, r) = mix::mix_audio(
                &job,
                (vocal, "(array)"),
                (backing, "(array)"),
                warn,
                &mut |_| {},
            )?;
            Ok::<_, String>((s, r, warnings))
        })
        .map_err(fail)?;
    let mixed = rendered.mix.as_ref().expect("a mix has its backing");
    Ok((
        to_numpy(py, mixed)?,
        to_numpy(py, &rendered.vocal)?,
        suggestion.to_json(),
        warnings,
    ))
}

/// `automix separate` on an array: (vocal, accompaniment, the share of frames sung or None,
/// notes), each at the input's rate and channel count.
#[pyfunction]
fn separate_array<'py>(
    py: Python<'py>,
    song: PyReadonlyArrayDyn<'py, f32>,
    rate: u32,
) -> PyResult<(Array<'py>, Array<'py>, Option<f64>, Warnings)> {
    let audio = audio_of(&song, rate, "song")?;
    let separated = py
        .detach(|| {
            let models = SeparationModels::shared();
            let mut s = separation::separate(models, audio.channels, rate, &mut |_, _| {})
                .map_err(|e| e.to_string())?;
            s.notes.splice(0..0, models.warnings.iter().cloned());
            Ok::<_, String>(s)
        })
        .map_err(fail)?;
    let as_audio = |channels: Vec<Vec<f32>>| Audio {
        sample_rate: rate,
        channels,
    };
    Ok((
        to_numpy(py, &as_audio(separated.vocal))?,
        to_numpy(py, &as_audio(separated.accompaniment))?,
        separated.activity.map(|a| a.active_share()),
        separated.notes,
    ))
}

/// `automix vad` on an array: (each 20 ms frame's probability, the threshold, hop and window in
/// seconds, the sung stretches in seconds).
#[pyfunction]
fn vad_array<'py>(
    py: Python<'py>,
    audio: PyReadonlyArrayDyn<'py, f32>,
    rate: u32,
) -> PyResult<VadResult<'py>> {
    let audio = audio_of(&audio, rate, "audio")?;
    let activity = py
        .detach(|| {
            let model = automix::vad::vad_model()?;
            vad::detect(model, &downmix(&audio.channels), rate, &mut |_| {})
                .map_err(|e| e.to_string())
        })
        .map_err(fail)?;
    let stretches = activity.stretches();
    Ok((
        PyArray1::from_vec(py, activity.probability),
        activity.threshold,
        activity.hop_seconds,
        activity.window_seconds,
        stretches,
    ))
}

/// A reference song's measures (balance, loudness range, tone, reverb, each with its
/// confidence) as the JSON `automix reference --json` caches, and the notes about them.
#[pyfunction]
fn measure_reference_json(
    py: Python<'_>,
    audio: PyReadonlyArrayDyn<'_, f32>,
    rate: u32,
) -> PyResult<(String, Warnings)> {
    let audio = audio_of(&audio, rate, "reference")?;
    py.detach(|| {
        let models = SeparationModels::shared();
        let m = reference::measure_song(models, audio.channels, rate, &mut |_, _| {}, None)
            .map_err(|e| format!("reference: {e}"))?;
        let json = serde_json::to_string_pretty(&m.measures).expect("measures serialise");
        Ok::<_, String>((json, m.notes))
    })
    .map_err(fail)
}

/// The parameter table (`automix params --json`): every key, range, unit and default.
#[pyfunction]
fn params_table_json() -> String {
    automix::param_file::table_json().to_string()
}

#[pymodule]
fn _engine(m: &Bound<'_, PyModule>) -> PyResult<()> {
    // the command line's progress bars are for its own terminal, not a Python program's
    automix::progress::hide_all();
    m.add("AutomixError", m.py().get_type::<AutomixError>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(analyze_json, m)?)?;
    m.add_function(wrap_pyfunction!(render_arrays, m)?)?;
    m.add_function(wrap_pyfunction!(mix_arrays, m)?)?;
    m.add_function(wrap_pyfunction!(separate_array, m)?)?;
    m.add_function(wrap_pyfunction!(vad_array, m)?)?;
    m.add_function(wrap_pyfunction!(measure_reference_json, m)?)?;
    m.add_function(wrap_pyfunction!(params_table_json, m)?)?;
    m.add_function(wrap_pyfunction!(files::mix_files, m)?)?;
    m.add_function(wrap_pyfunction!(files::separate_files, m)?)?;
    m.add_function(wrap_pyfunction!(files::render_files, m)?)?;
    Ok(())
}
