//! Offline sample-rate conversion of whole signals (band-limited, FFT-based).

use rubato::{FftFixedIn, Resampler};

/// The converter refused the rates (one of them 0, say) or failed on the way.
#[derive(Debug, Clone, PartialEq)]
pub struct ResampleError {
    pub from: u32,
    pub to: u32,
    pub why: String,
}

impl std::fmt::Display for ResampleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ResampleError { from, to, why } = self;
        write!(f, "cannot convert {from} Hz to {to} Hz: {why}")
    }
}

impl std::error::Error for ResampleError {}

impl From<ResampleError> for String {
    fn from(e: ResampleError) -> String {
        e.to_string()
    }
}

/// Converts every channel from `from` Hz to `to` Hz. The result is aligned with the input (the
/// converter's delay removed) and `ceil(len · to / from)` samples long.
pub fn resample(channels: &[Vec<f32>], from: u32, to: u32) -> Result<Vec<Vec<f32>>, ResampleError> {
    let failed = |why: String| ResampleError { from, to, why };
    if from == to || channels.is_empty() {
        return Ok(channels.to_vec());
    }
    let len = channels[0].len();
    let want = (len as u64 * to as u64).div_ceil(from as u64) as usize;
    let chunk = 1024;
    let mut r = FftFixedIn::<f32>::new(from as usize, to as usize, chunk, 2, channels.len())
        .map_err(|e| failed(e.to_string()))?;
    let delay = r.output_delay();
    let mut out: Vec<Vec<f32>> = vec![Vec::with_capacity(want + delay + chunk); channels.len()];
    let mut pos = 0;
    let append = |out: &mut Vec<Vec<f32>>, block: Vec<Vec<f32>>| {
        for (o, b) in out.iter_mut().zip(block) {
            o.extend_from_slice(&b);
        }
    };
    while pos + r.input_frames_next() <= len {
        let n = r.input_frames_next();
        let block: Vec<&[f32]> = channels.iter().map(|c| &c[pos..pos + n]).collect();
        append(
            &mut out,
            r.process(&block, None).map_err(|e| failed(e.to_string()))?,
        );
        pos += n;
    }
    // rubato refuses an empty final piece; a length that fills whole chunks has none
    if pos < len {
        let rest: Vec<&[f32]> = channels.iter().map(|c| &c[pos..]).collect();
        append(
            &mut out,
            r.process_partial(Some(&rest), None)
                .map_err(|e| failed(e.to_string()))?,
        );
    }
    while out[0].len() < want + delay {
        append(
            &mut out,
            r.process_partial::<&[f32]>(None, None)
                .map_err(|e| failed(e.to_string()))?,
        );
    }
    for o in out.iter_mut() {
        o.drain(..delay);
        o.truncate(want);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_of_whole_chunks_convert_too() {
        for len in [1024usize, 4096, 1023, 1025, 1] {
            let x = vec![0.25f32; len];
            let y = &resample(&[x], 16_000, 44_100).unwrap()[0];
            assert_eq!(y.len(), (len * 44_100).div_ceil(16_000), "{len}");
        }
    }

    #[test]
    fn a_sine_keeps_its_frequency_level_and_timing() {
        let (from, to) = (8_000u32, 44_100u32);
        let f = 440.0f32;
        let x: Vec<f32> = (0..8_000)
            .map(|i| (std::f32::consts::TAU * f * i as f32 / from as f32).sin())
            .collect();
        let y = &resample(&[x], from, to).unwrap()[0];
        assert_eq!(y.len(), 44_100);
        // away from the edges it is the same sine at the new rate, aligned within a sample
        let fit = |shift: f32| {
            (2_000..42_000)
                .map(|i| {
                    (y[i] - (std::f32::consts::TAU * f * (i as f32 + shift) / to as f32).sin())
                        .abs()
                })
                .fold(0.0f32, f32::max)
        };
        let best = (-20..=20)
            .map(|k| fit(k as f32 / 20.0))
            .fold(f32::INFINITY, f32::min);
        assert!(best < 2e-3, "{best}");
    }
}
