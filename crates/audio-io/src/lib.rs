//! Audio in and out: any common audio file decoded (WAV, FLAC, MP3, Ogg Vorbis), resampling,
//! 32-bit float WAV written. No analysis here: the assistant decodes into its tracks through
//! [`audio_file::decode`].

pub mod audio_file;
pub mod error;
pub mod resample;
