//! One input of the assistant (the vocal or the backing), gathered as it arrives — from a decoder
//! packet by packet, or from the plug-in's capture — without ever holding its channels whole:
//! a mono downmix for the spectral features, 100 ms loudness blocks of the channels as they will
//! play in the stereo mix, and what the user should hear about (peak, clipping, NaN).

use crate::loudness::{BlockMeter, Blocks};
use automix_dsp::chain::INPUT_LIMIT;
use std::path::Path;

use automix_audio_io::audio_file::{self, AudioFileError, DecodeNotes};
use automix_audio_io::resample::{ResampleError, resample};

/// Audio a track cannot be made of.
#[derive(Debug, Clone, PartialEq)]
pub enum TrackError {
    NoSampleRate,
    NoChannels,
    /// The conversion to [`ANALYSIS_RATE`] failed.
    Resample(ResampleError),
}

impl std::fmt::Display for TrackError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TrackError::NoSampleRate => write!(f, "the sample rate is 0"),
            TrackError::NoChannels => write!(f, "the audio has no channels"),
            TrackError::Resample(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for TrackError {}

impl From<TrackError> for String {
    fn from(e: TrackError) -> String {
        e.to_string()
    }
}

/// The assistant's analysis rate (the research's).
pub const ANALYSIS_RATE: u32 = 44_100;
/// Full scale as decoders deliver it; a run of samples this close to it is clipping.
const CLIP_LEVEL: f32 = 0.999;
const CLIP_RUN: usize = 3;

/// NaN, ±∞, or beyond the chain's input clamp.
fn beyond_limit(x: f32) -> bool {
    x.is_nan() || x.abs() > INPUT_LIMIT
}

/// Accumulates a track; [`TrackCapture::finish`] makes the [`Track`].
#[derive(Clone, Debug)]
pub struct TrackCapture {
    sample_rate: u32,
    channels: usize,
    mono: Vec<f32>,
    meter: BlockMeter,
    peak: f32,
    /// Per channel: the current run of full-scale samples, and whether it was counted.
    run: Vec<(usize, bool)>,
    clipped_passages: usize,
    non_finite: usize,
}

/// What the assistant knows about an input besides its samples.
#[derive(Clone, Debug)]
pub struct TrackInfo {
    pub sample_rate: u32,
    pub channels: usize,
    pub seconds: f64,
    /// Highest absolute sample, dBFS (−∞ for digital silence).
    pub peak_dbfs: f64,
    /// Places where at least three consecutive samples sit at full scale, or any sample exceeds it.
    pub clipped_passages: usize,
    /// NaN or infinite samples, replaced by silence.
    pub non_finite: usize,
    /// Loudness blocks of the track as it plays in the stereo mix (a mono file on both sides).
    pub played: Blocks,
}

/// An input ready for analysis.
#[derive(Clone, Debug)]
pub struct Track {
    /// Mono downmix at [`ANALYSIS_RATE`].
    pub mono: Vec<f32>,
    pub info: TrackInfo,
}

impl TrackCapture {
    /// `capacity_frames` is a hint (the decoder's frame count, when known) to allocate once.
    pub fn new(
        sample_rate: u32,
        channels: usize,
        capacity_frames: usize,
    ) -> Result<Self, TrackError> {
        if sample_rate == 0 {
            return Err(TrackError::NoSampleRate);
        }
        if channels == 0 {
            return Err(TrackError::NoChannels);
        }
        Ok(TrackCapture {
            sample_rate,
            channels,
            mono: Vec::with_capacity(capacity_frames),
            meter: BlockMeter::new(sample_rate, channels),
            peak: 0.0,
            run: vec![(0, false); channels],
            clipped_passages: 0,
            non_finite: 0,
        })
    }

    pub fn sample_rate(&self) -> u32 {
        self.sample_rate
    }

    pub fn channels(&self) -> usize {
        self.channels
    }

    pub fn frames(&self) -> usize {
        self.mono.len()
    }

    /// Seconds heard so far that the assistant's vocal gate would keep (blocks within
    /// [`GATE_RELATIVE_LU`](crate::GATE_RELATIVE_LU) of the loudness so far): the plug-in's
    /// measure of how much singing it has heard.
    pub fn active_seconds(&self) -> f64 {
        crate::loudness::active_seconds(self.meter.measured(), crate::GATE_RELATIVE_LU)
    }

    /// Appends whole frames, interleaved; a trailing partial frame is ignored. Non-finite samples
    /// become silence (and are counted).
    pub fn push_interleaved(&mut self, samples: &mut [f32]) {
        let n = self.channels;
        let whole = samples.len() / n * n;
        let samples = &mut samples[..whole];
        // the common case takes a few passes the compiler vectorises; NaN and clipping, rare,
        // take the careful path
        let bad = samples.iter().fold(false, |b, &x| b | beyond_limit(x));
        if bad {
            for x in samples.iter_mut().filter(|x| beyond_limit(**x)) {
                if x.is_finite() {
                    // absurd but finite (a float file's garbage): clamped as the chain clamps
                    // it, so sums and squares stay finite; it counts as clipping below
                    *x = x.clamp(-INPUT_LIMIT, INPUT_LIMIT);
                } else {
                    *x = 0.0;
                    self.non_finite += 1;
                }
            }
        }
        let peak = samples.iter().fold(0.0f32, |m, x| m.max(x.abs()));
        self.peak = self.peak.max(peak);
        if peak >= CLIP_LEVEL {
            self.find_clipping(samples);
        } else {
            self.run.fill((0, false));
        }
        match n {
            1 => self.mono.extend_from_slice(samples),
            2 => self
                .mono
                .extend(samples.chunks_exact(2).map(|f| 0.5 * (f[0] + f[1]))),
            _ => {
                let scale = 1.0 / n as f32;
                self.mono.extend(
                    samples
                        .chunks_exact(n)
                        .map(|f| scale * f.iter().sum::<f32>()),
                )
            }
        }
        self.meter.push_interleaved(samples);
    }

    /// Counts clipped passages: runs of full-scale samples, or any sample beyond it.
    fn find_clipping(&mut self, samples: &[f32]) {
        let n = self.channels;
        for frame in samples.chunks_exact(n) {
            for (c, x) in frame.iter().enumerate() {
                let a = x.abs();
                let (run, counted) = &mut self.run[c];
                if a >= CLIP_LEVEL {
                    *run += 1;
                    if !*counted && (*run >= CLIP_RUN || a > 1.0) {
                        *counted = true;
                        self.clipped_passages += 1;
                    }
                } else {
                    (*run, *counted) = (0, false);
                }
            }
        }
    }

    /// Converts the downmix to the analysis rate.
    /// A track of audio already decoded whole: one slice per channel (as long as the shortest).
    pub fn of_channels(sample_rate: u32, channels: &[&[f32]]) -> Result<Track, TrackError> {
        let frames = channels.iter().map(|c| c.len()).min().unwrap_or(0);
        let mut capture = TrackCapture::new(sample_rate, channels.len(), frames)?;
        let mut interleaved = Vec::new();
        for start in (0..frames).step_by(65_536) {
            let end = (start + 65_536).min(frames);
            interleaved.clear();
            interleaved.extend((start..end).flat_map(|i| channels.iter().map(move |c| c[i])));
            capture.push_interleaved(&mut interleaved);
        }
        capture.finish()
    }

    pub fn finish(self) -> Result<Track, TrackError> {
        let frames = self.mono.len();
        let mut played = self.meter.finish();
        if self.channels == 1 {
            // a mono file plays on both sides of the mix
            played = played.scaled(2.0);
        }
        let mono = if self.sample_rate == ANALYSIS_RATE {
            self.mono
        } else {
            let mut out = resample(
                std::slice::from_ref(&self.mono),
                self.sample_rate,
                ANALYSIS_RATE,
            )
            .map_err(TrackError::Resample)?;
            out.pop().unwrap_or_default()
        };
        Ok(Track {
            mono,
            info: TrackInfo {
                sample_rate: self.sample_rate,
                channels: self.channels,
                seconds: frames as f64 / self.sample_rate as f64,
                peak_dbfs: 20.0 * (self.peak as f64).log10(),
                clipped_passages: self.clipped_passages,
                non_finite: self.non_finite,
                played,
            },
        })
    }
}

impl Track {
    /// A track from whole channels (tests, the demo, the plug-in's capture).
    pub fn from_channels(channels: &[Vec<f32>], sample_rate: u32) -> Result<Track, TrackError> {
        let n = channels.len();
        let frames = channels.first().map_or(0, Vec::len);
        let mut cap = TrackCapture::new(sample_rate, n, frames)?;
        let mut buf = Vec::with_capacity(4096 * n);
        let mut start = 0;
        while start < frames {
            let end = (start + 4096).min(frames);
            buf.clear();
            for i in start..end {
                buf.extend(channels.iter().map(|c| c.get(i).copied().unwrap_or(0.0)));
            }
            cap.push_interleaved(&mut buf);
            start = end;
        }
        cap.finish()
    }
}

/// Decodes `path` straight into an analysis [`Track`]: the channels are never held whole (a
/// mono downmix and loudness blocks are kept), which is what keeps `automix analyze` small.
pub fn read_track(path: &Path) -> Result<(Track, DecodeNotes), AudioFileError> {
    // no file holds more frames than bytes, short of compression (which then grows the downmix
    // once or twice): a header that lies cannot make it reserve more than the file's size
    let most = std::fs::metadata(path).map_or(0, |m| m.len());
    let mut capture: Option<TrackCapture> = None;
    let (notes, _) = audio_file::decode(path, &mut |rate, n, declared, samples| {
        let cap = match capture.as_mut() {
            Some(c) => c,
            // reserving the declared length avoids growing (and briefly doubling) the downmix
            None => capture.insert(TrackCapture::new(
                rate,
                n,
                declared.unwrap_or(0).min(most) as usize,
            )?),
        };
        cap.push_interleaved(samples);
        Ok(())
    })?;
    let track = capture
        .expect("decode delivered samples")
        .finish()
        .map_err(|e| AudioFileError::Refused {
            path: path.to_path_buf(),
            why: format!("{}: {e}", path.display()),
        })?;
    Ok((track, notes))
}
