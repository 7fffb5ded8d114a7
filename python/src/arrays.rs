//! NumPy arrays in and out: (channels, samples) or mono, float32, checked with a message that
//! says what to do.

use automix::audio_io::Audio;
use numpy::{PyArray2, PyReadonlyArrayDyn, PyUntypedArrayMethods};
use pyo3::prelude::*;

use crate::fail;

/// More channels than any audio file we read: an array this tall is (samples, channels).
const MAX_CHANNELS: usize = 64;
/// The rates the decoder accepts from a file.
const RATES: std::ops::RangeInclusive<u32> = 1_000..=768_000;

/// `a` as the engine's audio: a 1-D array is mono, a 2-D one (channels, samples).
pub fn audio_of(a: &PyReadonlyArrayDyn<'_, f32>, rate: u32, what: &str) -> PyResult<Audio> {
    if !RATES.contains(&rate) {
        return Err(fail(format!(
            "{what}: a rate of {rate} Hz; the engine takes 1 kHz to 768 kHz"
        )));
    }
    let view = a.as_array();
    let channels: Vec<Vec<f32>> = match view.ndim() {
        1 => vec![view.iter().copied().collect()],
        2 => {
            let (rows, cols) = (a.shape()[0], a.shape()[1]);
            if rows > MAX_CHANNELS && cols <= MAX_CHANNELS {
                return Err(fail(format!(
                    "{what}: an array of shape ({rows}, {cols}) reads as {rows} channels; pass it as (channels, samples), e.g. `x.T`"
                )));
            }
            view.outer_iter()
                .map(|row| row.iter().copied().collect())
                .collect()
        }
        n => {
            return Err(fail(format!(
                "{what}: a {n}-dimensional array; give (channels, samples) or a mono (samples,)"
            )));
        }
    };
    if channels.is_empty() || channels[0].is_empty() {
        return Err(fail(format!("{what}: no audio (an empty array)")));
    }
    Ok(Audio {
        sample_rate: rate,
        channels,
    })
}

/// The engine's audio as a (channels, samples) float32 array.
pub fn to_numpy<'py>(py: Python<'py>, audio: &Audio) -> PyResult<Bound<'py, PyArray2<f32>>> {
    PyArray2::from_vec2(py, &audio.channels).map_err(|e| fail(format!("internal: {e}")))
}
