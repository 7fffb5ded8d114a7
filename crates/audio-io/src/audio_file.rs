//! Reading any common audio file (WAV, FLAC, MP3, Ogg Vorbis) and writing 32-bit float WAV.

use std::fs::File;
use std::path::{Path, PathBuf};

use symphonia::core::audio::SampleBuffer;
use symphonia::core::codecs::{CODEC_TYPE_NULL, Decoder, DecoderOptions};
use symphonia::core::errors::Error;
use symphonia::core::formats::{FormatOptions, FormatReader};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;
use symphonia::core::probe::Hint;

pub use automix_dsp::chain::{MAX_SAMPLE_RATE, MIN_SAMPLE_RATE};

pub use crate::error::{AudioFileError, LayoutProblem};

/// The file extensions of the formats the decoder reads (lower case; names are matched without
/// regard to case): the containers and codecs symphonia is built with in `Cargo.toml`.
pub const AUDIO_EXTENSIONS: [&str; 6] = ["wav", "wave", "flac", "mp3", "ogg", "oga"];

/// Whether `path` names a file in one of the formats the decoder reads, by its extension.
pub fn is_audio_file_name(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| AUDIO_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

/// Decoded audio: one vector per channel.
#[derive(Clone, Debug)]
pub struct Audio {
    pub sample_rate: u32,
    pub channels: Vec<Vec<f32>>,
}

impl Audio {
    pub fn frames(&self) -> usize {
        self.channels.first().map_or(0, Vec::len)
    }

    pub fn seconds(&self) -> f64 {
        self.frames() as f64 / self.sample_rate as f64
    }
}

/// What decoding noticed that the user should hear about.
#[derive(Default)]
pub struct DecodeNotes {
    pub skipped_packets: usize,
    pub ended_early: bool,
}

impl DecodeNotes {
    /// Tells the user what decoding `path` (the `what`: "vocal", "backing") noticed; `seconds` is
    /// how much decoded.
    pub fn tell(&self, what: &str, path: &Path, seconds: f64, warn: &mut dyn FnMut(String)) {
        let shown = path.display();
        if self.skipped_packets > 0 {
            warn(format!(
                "{what} {shown}: {} damaged packets skipped",
                self.skipped_packets
            ));
        }
        if self.ended_early {
            warn(format!(
                "{what} {shown}: the file ends early (truncated?); using the {seconds:.2} s that decode"
            ));
        }
    }
}

/// Receives each decoded packet: sample rate, channels, declared frame count, samples. Its
/// error stops decoding and comes back as [`AudioFileError::Refused`].
pub type PacketSink<'a> = dyn FnMut(u32, usize, Option<u64>, &mut [f32]) -> Result<(), String> + 'a;

/// Decodes `path` packet by packet, handing each packet's samples (interleaved) to `sink` with
/// the sample rate, the channel count and the frame count the file declares. Returns what decoding noticed and the frames delivered.
pub fn decode(path: &Path, sink: &mut PacketSink) -> Result<(DecodeNotes, u64), AudioFileError> {
    // symphonia 0.5 can panic on damaged files (an overflow on an extensible WAV's channel mask,
    // found by `cli/tests/fuzz.rs`): that is a damaged file to the user, not a crash
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        decode_unguarded(path, sink)
    }))
    .unwrap_or_else(|_| {
        Err(AudioFileError::Corrupt {
            path: path.to_path_buf(),
        })
    })
}

/// The file's first audio track, opened: its reader, track id, declared length and decoder.
struct Opened {
    format: Box<dyn FormatReader>,
    track_id: u32,
    declared_frames: Option<u64>,
    decoder: Box<dyn Decoder>,
}

fn open(path: &Path) -> Result<Opened, AudioFileError> {
    let path_buf = || path.to_path_buf();
    let file = File::open(path).map_err(|e| AudioFileError::Open {
        path: path_buf(),
        why: e.to_string(),
    })?;
    if file.metadata().map(|m| m.len() == 0).unwrap_or(false) {
        return Err(AudioFileError::Empty { path: path_buf() });
    }
    let mss = MediaSourceStream::new(Box::new(file), Default::default());
    let mut hint = Hint::new();
    if let Some(ext) = path.extension().and_then(|e| e.to_str()) {
        hint.with_extension(ext);
    }
    let not_audio = || AudioFileError::NotAudio { path: path_buf() };
    let probed = symphonia::default::get_probe()
        .format(
            &hint,
            mss,
            // gapless: an MP3's encoder delay and padding (its LAME/Xing tag) are trimmed, so
            // the decoded audio lines up with what was encoded to the sample, and so do stems
            // separated from it
            &FormatOptions {
                enable_gapless: true,
                ..FormatOptions::default()
            },
            &MetadataOptions::default(),
        )
        .map_err(|_| not_audio())?;
    let format = probed.format;
    let track = format
        .tracks()
        .iter()
        .find(|t| t.codec_params.codec != CODEC_TYPE_NULL)
        .ok_or_else(not_audio)?;
    let track_id = track.id;
    let declared_frames = track.codec_params.n_frames;
    if track.codec_params.sample_rate == Some(0) {
        return Err(AudioFileError::Layout {
            path: path_buf(),
            problem: LayoutProblem::RateZero,
        });
    }
    let decoder = symphonia::default::get_codecs()
        .make(&track.codec_params, &DecoderOptions::default())
        .map_err(|e| AudioFileError::Undecodable {
            path: path_buf(),
            why: format!("cannot decode its audio: {e}"),
        })?;
    Ok(Opened {
        format,
        track_id,
        declared_frames,
        decoder,
    })
}

/// The first packet's rate and channels, checked (a header that lies, or a format nobody mixes
/// in, is refused: at 4 GHz one loudness block would be 1.7 billion samples); every later packet
/// must keep them.
fn checked_layout(
    layout: Option<(u32, usize)>,
    rate: u32,
    channels: usize,
    path: &Path,
) -> Result<(u32, usize), AudioFileError> {
    let problem = match layout {
        None if rate == 0 => LayoutProblem::NoRate,
        None if !(MIN_SAMPLE_RATE..=MAX_SAMPLE_RATE).contains(&(rate as f32)) => {
            LayoutProblem::RateOutOfRange(rate)
        }
        None if channels == 0 => LayoutProblem::NoChannels,
        None => return Ok((rate, channels)),
        Some((r, c)) if r != rate || c != channels => LayoutProblem::ChangesMidFile,
        Some(same) => return Ok(same),
    };
    Err(AudioFileError::Layout {
        path: path.to_path_buf(),
        problem,
    })
}

fn decode_unguarded(
    path: &Path,
    sink: &mut PacketSink,
) -> Result<(DecodeNotes, u64), AudioFileError> {
    let undecodable = |e: Error| AudioFileError::Undecodable {
        path: path.to_path_buf(),
        why: e.to_string(),
    };
    let Opened {
        mut format,
        track_id,
        declared_frames,
        mut decoder,
    } = open(path)?;
    let mut notes = DecodeNotes::default();
    let mut layout: Option<(u32, usize)> = None;
    let mut buf: Option<SampleBuffer<f32>> = None;
    let mut frames = 0u64;
    loop {
        let packet = match format.next_packet() {
            Ok(p) => p,
            Err(Error::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
            Err(Error::ResetRequired) => break,
            Err(Error::IoError(_)) | Err(Error::DecodeError(_)) => {
                notes.ended_early = true;
                break;
            }
            Err(e) => return Err(undecodable(e)),
        };
        if packet.track_id() != track_id {
            continue;
        }
        let decoded = match decoder.decode(&packet) {
            Ok(d) => d,
            Err(Error::DecodeError(_)) => {
                notes.skipped_packets += 1;
                continue;
            }
            Err(Error::IoError(_)) => {
                notes.ended_early = true;
                break;
            }
            Err(e) => return Err(undecodable(e)),
        };
        let spec = *decoded.spec();
        if decoded.frames() == 0 {
            continue;
        }
        let n = spec.channels.count();
        layout = Some(checked_layout(layout, spec.rate, n, path)?);
        if buf
            .as_ref()
            .is_none_or(|b| b.capacity() < decoded.capacity())
        {
            buf = Some(SampleBuffer::<f32>::new(decoded.capacity() as u64, spec));
        }
        let b = buf.as_mut().expect("made above");
        b.copy_interleaved_ref(decoded);
        frames += (b.len() / n) as u64;
        sink(spec.rate, n, declared_frames, b.samples_mut()).map_err(|why| {
            AudioFileError::Refused {
                path: path.to_path_buf(),
                why,
            }
        })?;
    }
    if frames == 0 {
        return Err(AudioFileError::NoSamples {
            path: path.to_path_buf(),
        });
    }
    if declared_frames.is_some_and(|n| frames < n) {
        notes.ended_early = true;
    }
    Ok((notes, frames))
}

pub fn read(path: &Path) -> Result<(Audio, DecodeNotes), AudioFileError> {
    let mut sample_rate = 0;
    let mut channels: Vec<Vec<f32>> = Vec::new();
    let (notes, _) = decode(path, &mut |rate, n, _, samples| {
        sample_rate = rate;
        if channels.is_empty() {
            channels = vec![Vec::new(); n];
        }
        for frame in samples.chunks_exact(n) {
            for (c, &v) in channels.iter_mut().zip(frame) {
                c.push(v);
            }
        }
        Ok(())
    })?;
    Ok((
        Audio {
            sample_rate,
            channels,
        },
        notes,
    ))
}

/// Writes 32-bit float WAV, through a temporary file beside the target, so a failed write never
/// leaves half a file under the name asked for.
pub fn write_wav(path: &Path, audio: &Audio) -> Result<(), AudioFileError> {
    let failed = |why: String| AudioFileError::Write {
        path: path.to_path_buf(),
        why,
    };
    let spec = hound::WavSpec {
        channels: audio.channels.len() as u16,
        sample_rate: audio.sample_rate,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let partial = partial_path(path);
    let result = (|| {
        let mut w = hound::WavWriter::create(&partial, spec)?;
        for i in 0..audio.frames() {
            for c in &audio.channels {
                w.write_sample(c[i])?;
            }
        }
        w.finalize()
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&partial);
        return Err(failed(e.to_string()));
    }
    std::fs::rename(&partial, path).map_err(|e| {
        let _ = std::fs::remove_file(&partial);
        failed(e.to_string())
    })
}

fn partial_path(path: &Path) -> PathBuf {
    let mut name = path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(".partial");
    path.with_file_name(name)
}

/// Writes a text file through a temporary file beside it, like [`write_wav`].
pub fn write_text(path: &Path, text: &str) -> Result<(), AudioFileError> {
    let partial = partial_path(path);
    std::fs::write(&partial, text)
        .and_then(|()| std::fs::rename(&partial, path))
        .map_err(|e| {
            let _ = std::fs::remove_file(&partial);
            AudioFileError::Write {
                path: path.to_path_buf(),
                why: e.to_string(),
            }
        })
}

/// Decodes `path` and throws the samples away: the floor under anything that reads a file.
pub fn decode_only(path: &Path) -> Result<u64, AudioFileError> {
    let (_, frames) = decode(path, &mut |_, _, _, _| Ok(()))?;
    Ok(frames)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_formats_the_decoder_reads_are_recognised_by_extension_in_any_case() {
        for name in [
            "a.wav", "b.WAV", "c.Flac", "d.mp3", "e.ogg", "f.oga", "g.wave",
        ] {
            assert!(is_audio_file_name(Path::new(name)), "{name}");
        }
        for name in ["a.txt", "b.wav.json", "c", "d.aiff", ".wav"] {
            assert!(!is_audio_file_name(Path::new(name)), "{name}");
        }
    }
}
