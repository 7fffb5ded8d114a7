//! Reading any common audio file (WAV, FLAC, MP3, Ogg Vorbis) and writing 32-bit float WAV.

use std::fs::File;
use std::path::{Path, PathBuf};

use symphonia::core::audio::SampleBuffer;
use symphonia::core::codecs::{CODEC_TYPE_NULL, DecoderOptions};
use symphonia::core::errors::Error;
use symphonia::core::formats::FormatOptions;
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;
use symphonia::core::probe::Hint;

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

pub fn read(path: &Path) -> Result<(Audio, DecodeNotes), String> {
    let shown = path.display();
    let file = File::open(path).map_err(|e| format!("cannot open {shown}: {e}"))?;
    if file.metadata().map(|m| m.len() == 0).unwrap_or(false) {
        return Err(format!("{shown} is empty (0 bytes)"));
    }
    let mss = MediaSourceStream::new(Box::new(file), Default::default());
    let mut hint = Hint::new();
    if let Some(ext) = path.extension().and_then(|e| e.to_str()) {
        hint.with_extension(ext);
    }
    let not_audio =
        || format!("{shown} is not an audio file this tool reads (WAV, FLAC, MP3, Ogg Vorbis)");
    let probed = symphonia::default::get_probe()
        .format(
            &hint,
            mss,
            &FormatOptions::default(),
            &MetadataOptions::default(),
        )
        .map_err(|_| not_audio())?;
    let mut format = probed.format;
    let track = format
        .tracks()
        .iter()
        .find(|t| t.codec_params.codec != CODEC_TYPE_NULL)
        .ok_or_else(not_audio)?;
    let track_id = track.id;
    let declared_frames = track.codec_params.n_frames;
    let mut decoder = symphonia::default::get_codecs()
        .make(&track.codec_params, &DecoderOptions::default())
        .map_err(|e| format!("{shown}: cannot decode its audio: {e}"))?;
    let mut sample_rate = track.codec_params.sample_rate.unwrap_or(0);
    let mut channels: Vec<Vec<f32>> = Vec::new();
    let mut notes = DecodeNotes::default();
    loop {
        let packet = match format.next_packet() {
            Ok(p) => p,
            Err(Error::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
            Err(Error::ResetRequired) => break,
            Err(Error::IoError(_)) | Err(Error::DecodeError(_)) => {
                notes.ended_early = true;
                break;
            }
            Err(e) => return Err(format!("{shown}: {e}")),
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
            Err(e) => return Err(format!("{shown}: {e}")),
        };
        let spec = *decoded.spec();
        if decoded.frames() == 0 {
            continue;
        }
        sample_rate = spec.rate;
        let n = spec.channels.count();
        if channels.is_empty() {
            channels = vec![Vec::new(); n];
        } else if channels.len() != n {
            return Err(format!("{shown}: the number of channels changes mid-file"));
        }
        let mut buf = SampleBuffer::<f32>::new(decoded.capacity() as u64, spec);
        buf.copy_interleaved_ref(decoded);
        for frame in buf.samples().chunks_exact(n) {
            for (c, &v) in channels.iter_mut().zip(frame) {
                c.push(v);
            }
        }
    }
    if channels.is_empty() || channels[0].is_empty() {
        return Err(format!("{shown} contains no audio samples"));
    }
    if declared_frames.is_some_and(|n| (channels[0].len() as u64) < n) {
        notes.ended_early = true;
    }
    if sample_rate == 0 {
        return Err(format!("{shown} does not say its sample rate"));
    }
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
pub fn write_wav(path: &Path, audio: &Audio) -> Result<(), String> {
    let shown = path.display();
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
        return Err(format!("cannot write {shown}: {e}"));
    }
    std::fs::rename(&partial, path).map_err(|e| {
        let _ = std::fs::remove_file(&partial);
        format!("cannot write {shown}: {e}")
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
