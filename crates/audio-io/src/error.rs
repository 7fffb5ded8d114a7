//! What can go wrong reading or writing an audio file, each case with the message the user reads
//! (the file named, and what to do where there is something to do).

use std::fmt;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq)]
pub enum AudioFileError {
    /// The file could not be opened (missing, a folder, no permission).
    Open { path: PathBuf, why: String },
    /// Zero bytes.
    Empty { path: PathBuf },
    /// No format or no audio track the decoder knows.
    NotAudio { path: PathBuf },
    /// The header says something nobody mixes in, or the stream changes shape.
    Layout {
        path: PathBuf,
        problem: LayoutProblem,
    },
    /// The codec cannot be decoded, or the container failed past its first packets.
    Undecodable { path: PathBuf, why: String },
    /// The decoder itself failed on damaged data.
    Corrupt { path: PathBuf },
    /// Every packet decoded to nothing.
    NoSamples { path: PathBuf },
    /// Whoever received the decoded packets refused them.
    Refused { path: PathBuf, why: String },
    /// Writing failed (a full disk, no permission); nothing is left under the name.
    Write { path: PathBuf, why: String },
}

/// A header that lies, or a format the product does not run at.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LayoutProblem {
    RateZero,
    NoRate,
    /// Outside [`crate::audio_file::MIN_SAMPLE_RATE`]..=[`crate::audio_file::MAX_SAMPLE_RATE`].
    RateOutOfRange(u32),
    NoChannels,
    ChangesMidFile,
}

impl AudioFileError {
    /// The file the error is about.
    pub fn path(&self) -> &Path {
        match self {
            Self::Open { path, .. }
            | Self::Empty { path }
            | Self::NotAudio { path }
            | Self::Layout { path, .. }
            | Self::Undecodable { path, .. }
            | Self::Corrupt { path }
            | Self::NoSamples { path }
            | Self::Refused { path, .. }
            | Self::Write { path, .. } => path,
        }
    }
}

impl fmt::Display for AudioFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = self.path().display();
        match self {
            Self::Open { why, .. } => write!(f, "cannot open {shown}: {why}"),
            Self::Empty { .. } => write!(f, "{shown} is empty (0 bytes)"),
            Self::NotAudio { .. } => write!(
                f,
                "{shown} is not an audio file this tool reads (WAV, FLAC, MP3, Ogg Vorbis)"
            ),
            Self::Layout { problem, .. } => match problem {
                LayoutProblem::RateZero => write!(f, "{shown} says its sample rate is 0"),
                LayoutProblem::NoRate => write!(f, "{shown} does not say its sample rate"),
                LayoutProblem::RateOutOfRange(rate) => write!(
                    f,
                    "{shown} says its sample rate is {rate} Hz; automix reads {:.0} Hz to {:.0} kHz",
                    crate::audio_file::MIN_SAMPLE_RATE,
                    crate::audio_file::MAX_SAMPLE_RATE / 1000.0
                ),
                LayoutProblem::NoChannels => write!(f, "{shown} has no audio channels"),
                LayoutProblem::ChangesMidFile => write!(
                    f,
                    "{shown}: the sample rate or the number of channels changes mid-file"
                ),
            },
            Self::Undecodable { why, .. } => write!(f, "{shown}: {why}"),
            Self::Corrupt { .. } => write!(
                f,
                "{shown}: the decoder failed on damaged data; the file is probably corrupt (re-export it)"
            ),
            Self::NoSamples { .. } => write!(f, "{shown} contains no audio samples"),
            Self::Refused { why, .. } => write!(f, "{why}"),
            Self::Write { why, .. } => write!(f, "cannot write {shown}: {why}"),
        }
    }
}

impl std::error::Error for AudioFileError {}

/// Callers that report errors as text (the command line's one-line errors) take it as it reads.
impl From<AudioFileError> for String {
    fn from(e: AudioFileError) -> String {
        e.to_string()
    }
}
