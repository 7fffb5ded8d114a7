//! "Mix like this record": a reference song's vocal separated from its backing
//! ([`automix_separation`]) and measured with the very measures the assistant's decisions aim at,
//! so that each can aim at the reference instead of the research's dataset means:
//!
//! * level — the vocal's integrated loudness minus the backing's, both as they play (BS.1770,
//!   stereo), the measure of [`crate::targets::Targets::below_backing_lu`];
//! * compression — the vocal's loudness range (EBU Tech 3342 on the mono analysis signal), the
//!   measure the compressor search stops at;
//! * EQ tone — the vocal's long-term octave-band balance relative to its own loudness
//!   ([`crate::vocal_tone`]), the measure of the tone target;
//! * reverb — how much tail the vocal carries: the median level 100–300 ms after the voice stops,
//!   relative to the singing just before ([`tail_db`]). The reverb CNN reads wet vocals, but its
//!   dry/wet estimate is no better than the dataset mean on held-out songs (docs/cnn.md), so it
//!   cannot say how wet a reference is; the tail level can, and the assistant turns it into a
//!   dry/wet by finding the one at which the engine's reverb gives the user's own vocal the same
//!   tail ([`match_dry_wet`]).

use serde::{Deserialize, Serialize};

use crate::loudness::Blocks;
use crate::spectrum::Frames;
use crate::track::{ANALYSIS_RATE, Track};
use automix_separation::vad;
use automix_separation::{self as separation, SeparationModels};

/// Bumped when a measure changes meaning: measures cached under another version are taken again.
pub const MEASURES_VERSION: u32 = 3;
/// A reference with less singing than this is not measured: its measures would be noise.
pub const MIN_SUNG_SECONDS: f64 = 2.0;
/// A reference in which the VAD hears singing in less than this share of the time is taken for
/// an instrumental: on MIR-1K's test clips the VAD calls about a quarter of the backing-only
/// frames sung (docs/separation.md), so a lower share is what an instrumental with a lead line
/// gives (the shared instrumentals give 13–15 %), while songs with a lead vocal sing in 40 % of
/// their length or more.
pub const MIN_SUNG_SHARE: f64 = 0.25;
/// Under this much singing the measures are uncertain (a loudness range has few 3 s windows).
pub const FEW_SUNG_SECONDS: f64 = 20.0;
/// A reference shorter than this is refused before it is separated.
pub const MIN_SECONDS: f64 = 5.0;

/// How a reference's vocal sits against its backing.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ReferenceMeasures {
    /// The vocal's integrated loudness minus the backing's, both as they play, LU (`None`: no
    /// backing to compare with, an a cappella reference).
    pub vocal_minus_backing_lu: Option<f64>,
    /// The vocal's loudness range, LU (`None` under 3 s of vocal).
    pub vocal_loudness_range_lu: Option<f64>,
    /// The vocal's octave bands (63 Hz … 16 kHz) relative to its integrated loudness, dB.
    pub tone_relative_db: Option<[f64; 9]>,
    /// Per band, the vocal's share of the song's energy over the vocal's frames (0–1): where the
    /// backing dominates a band, the separator's vocal there is mostly the backing's leak, and
    /// the band's tone is not trusted ([`TONE_MIN_SHARE`]).
    #[serde(default)]
    pub tone_vocal_share: Option<[f64; 9]>,
    /// The vocal's tail: median level 100–300 ms after the voice stops, relative to the singing
    /// before, dB (`None`: too few phrase ends to tell).
    pub reverb_tail_db: Option<f64>,
    /// Seconds the VAD heard singing in (the whole length when there was no VAD to ask).
    pub sung_seconds: f64,
    pub seconds: f64,
    /// How far each measure can be trusted (`None`: measured from stems, or before confidences
    /// were: trusted whole).
    #[serde(default)]
    pub confidence: Option<Confidence>,
}

/// How far a separated reference's measures can be trusted. A measure is one estimate of the
/// reference's true value; the assistant's own target is another, whose error is how much
/// professional songs differ from it. Each measure's weight is the share an estimate of its
/// error gets when the two are combined by their variances, `prior² / (prior² + error²)`: a
/// measure as uncertain as the songs are varied counts half, a sure one nearly whole.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Confidence {
    /// The balance with every cell's energy split as the separator's mask says, LU.
    pub split_balance_lu: f64,
    /// The balance of the stems resynthesis gives (the mask's square of each cell), LU. Where
    /// the separator is sure (a mask near 0 or 1) the two agree; where it hesitates they part.
    pub resynthesised_balance_lu: f64,
    /// The balance's expected error, one standard deviation, LU.
    pub balance_error_lu: f64,
    /// Weights, 0 … 1, of the balance, the loudness range, the tone and the tail.
    pub balance: f64,
    pub loudness_range: f64,
    pub tone: f64,
    pub reverb: f64,
}

/// How far professional songs' vocal − backing balances lie from the built-in target, LU: the
/// five shared professional mixes spread 1.8 LU (one standard deviation) around their mean.
pub const BALANCE_PRIOR_LU: f64 = 1.8;
/// The same for the vocal's loudness range: the five spread 1.4 LU.
pub const LOUDNESS_RANGE_PRIOR_LU: f64 = 1.4;
/// A separated loudness range's error with 20 s of singing (the shared songs: within 1 LU on
/// four of five); it shrinks with the square root of the 3 s windows there are.
pub const LOUDNESS_RANGE_ERROR_LU: f64 = 1.0;
/// The balance's error when the separator's two readings agree, LU: on the stems song it never
/// heard, remixed at five balances, the calibrated reading is off by 1.0 LU (root mean square;
/// 0.85 over all eight stems songs, each scored by the calibration of the other seven).
pub const BALANCE_ERROR_FLOOR_LU: f64 = 1.0;
/// What each LU between the split and resynthesised readings adds to the error: the spread is
/// the energy the separator is unsure of, so an LU of it is an LU of doubt.
pub const BALANCE_ERROR_PER_SPREAD: f64 = 1.0;
/// The calibration `true = split + k·(split − resynthesised) + c`, fitted by least squares on
/// remixes of the eight stems songs at −6, −4, −2, 0, +2 LU (the truth exact; no song of the
/// evaluation): the separator hears a little too much of a produced vocal (c), and more where the
/// readings part. `python -m automix_training.separation.balance_fit` prints it (docs/reference.md).
pub const BALANCE_CALIBRATION: f64 = 0.2;
pub const BALANCE_OFFSET_LU: f64 = -1.0;

/// The balance a separated reference's vocal has, from its split and resynthesised readings.
pub fn calibrated_balance(split: f64, resynthesised: Option<f64>) -> f64 {
    split + BALANCE_CALIBRATION * resynthesised.map_or(0.0, |r| split - r) + BALANCE_OFFSET_LU
}

fn weight(prior: f64, error: f64) -> f64 {
    crate::masking_eq::round2(prior * prior / (prior * prior + error * error))
}

impl Confidence {
    /// `shares`: per octave band the vocal's share of the song's energy; `sung`: seconds sung.
    pub fn of_separation(
        split: Option<f64>,
        resynthesised: Option<f64>,
        shares: Option<&[f64; 9]>,
        sung: f64,
    ) -> Option<Confidence> {
        let (split, resynthesised) = split.zip(resynthesised)?;
        let round = crate::masking_eq::round2;
        let spread = (split - resynthesised).abs();
        let error = (BALANCE_ERROR_FLOOR_LU.powi(2) + (BALANCE_ERROR_PER_SPREAD * spread).powi(2))
            .sqrt()
            * (FEW_SUNG_SECONDS / sung.max(1.0)).sqrt().max(1.0);
        let balance = weight(BALANCE_PRIOR_LU, error);
        let lra_error = LOUDNESS_RANGE_ERROR_LU * (FEW_SUNG_SECONDS / sung.max(1.0)).sqrt();
        // the tone is followed only in bands the vocal holds (TONE_MIN_SHARE); how much of
        // them it holds there is how much of what is measured is the vocal's
        let trusted: Vec<f64> = shares
            .map(|s| s.iter().copied().filter(|&x| x >= TONE_MIN_SHARE).collect())
            .unwrap_or_default();
        let tone = if trusted.is_empty() {
            0.0
        } else {
            trusted.iter().sum::<f64>() / trusted.len() as f64
        };
        Some(Confidence {
            split_balance_lu: round(split),
            resynthesised_balance_lu: round(resynthesised),
            balance_error_lu: round(error),
            balance,
            loudness_range: weight(LOUDNESS_RANGE_PRIOR_LU, lra_error),
            tone: round(tone),
            // the tail is read from the separated vocal, where the backing's leak lifts it as
            // much as it misleads the balance
            reverb: balance,
        })
    }
}

/// Under this weight a measure is said to be in doubt (it counts less than the assistant's own
/// target), and a library profile leaves the song's measure out of its median.
pub const LOW_CONFIDENCE: f64 = 0.5;

/// `1/w − 1`, the squared ratio of a measure's error to its prior's, of a weight `w`.
fn doubt(w: f64) -> f64 {
    1.0 / w.clamp(1e-6, 1.0) - 1.0
}

impl Confidence {
    /// The confidence of the mean of measures that carry these confidences (`None`: measured
    /// from stems, no error): the mean of n estimates has the root of their summed squared
    /// errors over n, so several sure references make a surer one and a doubtful one among
    /// sure ones counts for less.
    pub fn of_mean(all: &[Option<&Confidence>]) -> Option<Confidence> {
        if all.iter().all(Option::is_none) {
            return None;
        }
        let n = all.len() as f64;
        let round = crate::masking_eq::round2;
        let mean = |f: &dyn Fn(&Confidence) -> f64| {
            let have: Vec<f64> = all.iter().flatten().map(|c| f(c)).collect();
            round(have.iter().sum::<f64>() / have.len() as f64)
        };
        let combine = |f: &dyn Fn(&Confidence) -> f64| {
            let r: f64 = all.iter().map(|c| c.map_or(0.0, |c| doubt(f(c)))).sum();
            round(1.0 / (1.0 + r / (n * n)))
        };
        let error: f64 = all
            .iter()
            .map(|c| c.map_or(0.0, |c| c.balance_error_lu.powi(2)))
            .sum::<f64>()
            .sqrt()
            / n;
        Some(Confidence {
            split_balance_lu: mean(&|c| c.split_balance_lu),
            resynthesised_balance_lu: mean(&|c| c.resynthesised_balance_lu),
            balance_error_lu: round(error),
            balance: combine(&|c| c.balance),
            loudness_range: combine(&|c| c.loudness_range),
            tone: combine(&|c| c.tone),
            reverb: combine(&|c| c.reverb),
        })
    }
}

impl Confidence {
    /// The balance's error times `factor`, and the weights that follow from it: the balance's
    /// and the tail's (leak lifts both).
    fn scale_balance_error(&mut self, factor: f64) {
        self.balance_error_lu = crate::masking_eq::round2(self.balance_error_lu * factor);
        self.balance = weight(BALANCE_PRIOR_LU, self.balance_error_lu);
        self.reverb = self.reverb.min(self.balance);
    }

    /// The weight of the measure `stage` aims at.
    pub fn confidence_of_stage(&self, stage: automix_dsp::params::Stage) -> f64 {
        use automix_dsp::params::Stage;
        match stage {
            Stage::Eq => self.tone,
            Stage::Compressor => self.loudness_range,
            Stage::Reverb => self.reverb,
            Stage::Level => self.balance,
        }
        .clamp(0.0, 1.0)
    }
}

impl ReferenceMeasures {
    /// No measures at all: the built-in targets stay.
    pub fn none() -> ReferenceMeasures {
        ReferenceMeasures {
            vocal_minus_backing_lu: None,
            vocal_loudness_range_lu: None,
            tone_relative_db: None,
            tone_vocal_share: None,
            reverb_tail_db: None,
            sung_seconds: 0.0,
            seconds: 0.0,
            confidence: None,
        }
    }

    /// The confidence of the measure `stage` aims at, 0 … 1 (1 without a confidence: stems).
    pub fn confidence_of(&self, stage: automix_dsp::params::Stage) -> f64 {
        self.confidence
            .as_ref()
            .map_or(1.0, |c| c.confidence_of_stage(stage))
    }
}

/// Why a reference gave no measures.
#[derive(Clone, Debug, PartialEq)]
pub enum ReferenceError {
    /// Nobody sings in it (or too little): the defaults stay.
    NoSinging { sung_seconds: f64, seconds: f64 },
    /// The file cannot be read.
    File(automix_audio_io::audio_file::AudioFileError),
    /// The separator or the VAD failed while running.
    Model(automix_inference::ModelError),
    /// Too short, silent, or the separator is missing.
    Unusable(String),
    /// The caller stopped the measuring (the plug-in going away).
    Cancelled,
}

impl From<separation::SeparationError> for ReferenceError {
    fn from(e: separation::SeparationError) -> Self {
        match e {
            separation::SeparationError::Cancelled => ReferenceError::Cancelled,
            separation::SeparationError::Model(e) => ReferenceError::Model(e),
            other => ReferenceError::Unusable(other.to_string()),
        }
    }
}

impl std::fmt::Display for ReferenceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReferenceError::NoSinging {
                sung_seconds,
                seconds,
            } => write!(
                f,
                "no singing found in it (the voice detector hears {sung_seconds:.1} s of {seconds:.1} s, {:.0} %; a song with a lead vocal gives {:.0} % or more): the defaults are used instead — choose a song with a lead vocal",
                100.0 * sung_seconds / seconds.max(1e-9),
                100.0 * MIN_SUNG_SHARE
            ),
            ReferenceError::File(e) => write!(f, "{e}"),
            ReferenceError::Model(e) => write!(f, "{e}"),
            ReferenceError::Unusable(why) => write!(f, "{why}"),
            ReferenceError::Cancelled => write!(f, "cancelled"),
        }
    }
}

/// A reference's tone is used in the bands where its vocal holds at least this share of the
/// song's energy. Where the backing dominates (the bass octaves, a band full of cymbals), a
/// separator's vocal band is mostly leak and its error runs to 10 dB and more; where the vocal
/// dominates, the separator has it nearly whole. The separator tuned on produced songs hears a
/// little too much vocal where it is unsure: on the shared songs it read shares of 0.64–0.67 in
/// bands whose true share was 0.03–0.26, and never more than 0.1 off at 0.7 and above (a bound
/// read off the evaluation songs, docs/reference.md says so).
pub const TONE_MIN_SHARE: f64 = 0.7;

/// Per band, vocal ÷ (vocal + backing) of the mean band powers over the `kept` frames.
fn band_shares(vocal: &Frames, backing: &Frames, kept: &[usize]) -> Option<[f64; 9]> {
    let v = crate::measuring::inputs::mean_bands(vocal, kept)?;
    let b = crate::measuring::inputs::mean_bands(backing, kept)?;
    let e = |db: f64| 10f64.powf(db / 10.0);
    Some(std::array::from_fn(|i| {
        let (v, b) = (e(v[i]), e(b[i]));
        crate::masking_eq::round2(v / (v + b).max(1e-30))
    }))
}

/// Measures and what the user should hear about them.
#[derive(Clone, Debug)]
pub struct Measured {
    pub measures: ReferenceMeasures,
    pub notes: Vec<String>,
}

/// Measures a reference from its vocal and backing (stems, or what the separator made of a mix).
pub fn measure(vocal: &Track, backing: Option<&Track>, sung_seconds: f64) -> ReferenceMeasures {
    let vocal_played = vocal.info.played.integrated();
    let backing_played = backing.and_then(|b| b.info.played.integrated());
    let round = crate::masking_eq::round2;
    let shares = backing.and_then(|b| {
        let lufs = Blocks::of_mono(&vocal.mono, ANALYSIS_RATE).integrated()?;
        let mut analyser = crate::spectrum::Analyser::new(ANALYSIS_RATE);
        let v = analyser.frames(&vocal.mono, false);
        let bf = analyser.frames(&b.mono, false);
        let kept: Vec<usize> = (0..v.len().min(bf.len()))
            .filter(|&i| v.loudness[i] as f64 >= lufs + crate::GATE_RELATIVE_LU)
            .collect();
        band_shares(&v, &bf, &kept)
    });
    ReferenceMeasures {
        vocal_minus_backing_lu: vocal_played.zip(backing_played).map(|(v, b)| round(v - b)),
        vocal_loudness_range_lu: Blocks::of_mono(&vocal.mono, ANALYSIS_RATE)
            .loudness_range()
            .map(round),
        tone_relative_db: crate::vocal_tone(vocal).map(|t| t.map(round)),
        tone_vocal_share: shares,
        reverb_tail_db: tail_db(&frame_energies(&vocal.mono, ANALYSIS_RATE)).map(round),
        sung_seconds: round(sung_seconds),
        seconds: round(vocal.info.seconds),
        confidence: None,
    }
}

/// Separates a reference song (`channels` at `rate`) and measures its vocal and backing.
/// `progress(stage, share)` as [`separation::separate`] reports it.
pub fn measure_song(
    models: &SeparationModels,
    channels: Vec<Vec<f32>>,
    rate: u32,
    progress: separation::Progress,
    cancel: Option<&std::sync::atomic::AtomicBool>,
) -> Result<Measured, ReferenceError> {
    let unusable = |s: String| ReferenceError::Unusable(s);
    let frames = channels.first().map_or(0, Vec::len);
    if channels.is_empty() || frames == 0 {
        return Err(unusable("the reference holds no audio".into()));
    }
    let seconds = frames as f64 / rate.max(1) as f64;
    if seconds < MIN_SECONDS {
        return Err(unusable(format!(
            "the reference is {seconds:.1} s long; it needs at least {MIN_SECONDS} s (a whole song measures best)"
        )));
    }
    let mut notes = Vec::new();
    if channels.len() == 1 {
        notes.push(
            "the reference is mono: its balance and tone are measured as it plays on both sides"
                .into(),
        );
    }
    let mono = separation::downmix(&channels);
    if Blocks::of_mono(&mono, rate).integrated().is_none() {
        return Err(unusable("the reference is silent".into()));
    }
    let sung_seconds = match &models.vad {
        Some(model) => {
            let activity = vad::detect(model, &mono, rate, &mut |f| progress("vocal activity", f))
                .map_err(ReferenceError::Model)?;
            activity.active_share() * seconds
        }
        None => {
            notes.push(format!(
                "no usable VAD ({}): the reference is assumed to be sung throughout",
                models.warnings.join("; ")
            ));
            seconds
        }
    };
    drop(mono);
    if sung_seconds < MIN_SUNG_SECONDS || sung_seconds < MIN_SUNG_SHARE * seconds {
        return Err(ReferenceError::NoSinging {
            sung_seconds,
            seconds,
        });
    }
    if sung_seconds < FEW_SUNG_SECONDS {
        notes.push(format!(
            "only {sung_seconds:.0} s of singing in the reference: its measures are rough (a whole song measures best)"
        ));
    }
    let mono = separation::downmix(&channels);
    let mask = separation::vocal_mask(models, &mono, rate, progress, cancel)?;
    notes.extend(mask.notes.iter().cloned());
    let mut measures = measure_split(&channels, &mono, rate, &mask, sung_seconds);
    doubt_damaged_input(&mut measures, &channels, rate, &mut notes);
    // what the separator itself read, before its calibration (no confidence: no reading)
    let read = measures.confidence.as_ref().map(|c| c.split_balance_lu);
    if let Some(v) = read.filter(|&v| v > A_CAPPELLA_LU) {
        notes.push(format!(
            "what the separator left beside the voice plays {v:.0} LU under it: an a cappella or spoken recording, not a balance to copy"
        ));
        measures.vocal_minus_backing_lu = None;
    }
    if measures.vocal_minus_backing_lu.is_none() {
        notes.push("the reference has no backing under its vocal: its level is not used".into());
    }
    Ok(Measured { measures, notes })
}

/// A voice this far over what the separator leaves beside it has no backing: no produced song
/// puts its lead 6 LU over the band (the professional songs here sit 0.2–4.6 LU under it), while
/// a cappella and spoken recordings read 10–12 LU.
pub const A_CAPPELLA_LU: f64 = 6.0;
/// A reference with more than this share of its samples at full scale is clipped.
pub const CLIPPED_SHARE: f64 = 0.001;

/// Lowers the confidence of what a damaged reference measures, and says why: a clipped one
/// (its peaks flattened: its loudness range reads too small and its tone too bright) and one
/// sampled under the 16 kHz the separator and the VAD learnt at (they hear only part of the
/// 0–8 kHz they need; the bands above its Nyquist hold nothing of the vocal).
fn doubt_damaged_input(
    m: &mut ReferenceMeasures,
    channels: &[Vec<f32>],
    rate: u32,
    notes: &mut Vec<String>,
) {
    let total: usize = channels.iter().map(Vec::len).sum();
    let peak = channels
        .iter()
        .flatten()
        .fold(0.0f32, |p, x| p.max(x.abs()));
    let at_peak = channels
        .iter()
        .flatten()
        .filter(|x| peak > 0.0 && x.abs() >= 0.999 * peak)
        .count();
    let clipped = at_peak as f64 / total.max(1) as f64;
    let Some(c) = m.confidence.as_mut() else {
        return;
    };
    if clipped > CLIPPED_SHARE {
        notes.push(format!(
            "the reference is clipped ({:.1} % of its samples sit at its peak): its loudness range and tone are measured with low confidence, its balance with less",
            100.0 * clipped
        ));
        c.loudness_range = c.loudness_range.min(0.25);
        c.tone = c.tone.min(0.25);
        // clipping distorts what the separator hears too: each per cent of the samples
        // clipped adds the error once more
        c.scale_balance_error(1.0 + 100.0 * clipped);
    }
    if rate < 16_000 {
        let nyquist = rate as f64 / 2.0;
        notes.push(format!(
            "the reference is sampled at {rate} Hz: nothing above {nyquist:.0} Hz is in it, so its tone there is not used and its balance is measured with less confidence"
        ));
        // the separator hears rate/2 of its 8 kHz: the error grows as the band it hears shrinks
        c.scale_balance_error(8000.0 / nyquist);
        if let Some(shares) = m.tone_vocal_share.as_mut() {
            for (b, share) in shares.iter_mut().enumerate() {
                // octave band b is centred on 62.5 · 2^b Hz; its upper edge is √2 above
                if 62.5 * 2f64.powi(b as i32) * std::f64::consts::SQRT_2 > nyquist {
                    *share = 0.0;
                }
            }
        }
    }
}

/// A reference measured from the separator's mask without resynthesising it: every
/// time-frequency cell's power is split between vocal and backing as the mask says (a mask of
/// 0.6 gives the vocal 60 % of the cell's energy). Resynthesis instead scales amplitudes, so the
/// vocal keeps the mask's *square* of the energy: a separator unsure of a cell (0.5) loses the
/// vocal three quarters of it and hands the rest to nobody, and the vocal measures several LU
/// too quiet; the split keeps vocal + backing equal to the mix. Loudness comes from each
/// channel's K-weighted spectrum (as BS.1770 sums channels), the tone and the loudness range
/// from the mono downmix as the assistant measures its own vocal; the tail, which needs 10 ms
/// frames, from the resynthesised mono vocal.
pub fn measure_split(
    channels: &[Vec<f32>],
    mono: &[f32],
    rate: u32,
    mask: &separation::VocalMask,
    sung_seconds: f64,
) -> ReferenceMeasures {
    use crate::spectrum::{Analyser, FFT, HOP};
    let upper: Vec<f32> = (0..mask.frames).map(|t| mask.upper(t)).collect();
    let hz = rate as f64 / FFT as f64;
    let mut analyser = Analyser::new(rate);
    let mut split = |signal: &[f32], vocal: bool| {
        analyser.frames_with(signal, false, &mut |i, power| {
            let seconds = (i * HOP + FFT / 2) as f64 / rate as f64;
            for (b, p) in power.iter_mut().enumerate() {
                let m = mask.at(seconds, b as f64 * hz, &upper).clamp(0.0, 1.0);
                *p *= if vocal { m } else { 1.0 - m };
            }
        })
    };
    let readings = balance_readings(channels, rate, mask, &upper);
    let (split_balance, resynthesised_balance) = (readings[0], readings[1]);
    let vocal_mono = split(mono, true);
    let mono_blocks = blocks_of(&vocal_mono.loudness, mono.len(), rate);
    let backing_mono = split(mono, false);
    let gated = mono_blocks.integrated().map(|lufs| {
        let threshold = lufs + crate::GATE_RELATIVE_LU;
        let kept: Vec<usize> = (0..vocal_mono.len())
            .filter(|&i| vocal_mono.loudness[i] as f64 >= threshold)
            .collect();
        (lufs, kept)
    });
    let tone = gated.as_ref().and_then(|(lufs, kept)| {
        crate::measuring::inputs::mean_bands(&vocal_mono, kept).map(|b| b.map(|x| x - lufs))
    });
    // above 8 kHz the separator never looked: its mask there is the 4–8 kHz one carried up, so
    // the vocal's share of the 16 kHz octave (11–23 kHz) is a guess, and its tone is not followed
    let shares = gated
        .as_ref()
        .and_then(|(_, kept)| band_shares(&vocal_mono, &backing_mono, kept))
        .map(|mut s| {
            s[8] = 0.0;
            s
        });
    let vocal_signal = separation::apply_mask(mono, &mask.mask, &mask.geometry);
    let round = crate::masking_eq::round2;
    let sung = sung_seconds.min(mono.len() as f64 / rate as f64);
    let confidence =
        Confidence::of_separation(split_balance, resynthesised_balance, shares.as_ref(), sung);
    ReferenceMeasures {
        vocal_minus_backing_lu: split_balance
            .map(|a| round(calibrated_balance(a, resynthesised_balance))),
        vocal_loudness_range_lu: mono_blocks.loudness_range().map(round),
        tone_relative_db: tone.map(|t| t.map(round)),
        tone_vocal_share: shares,
        reverb_tail_db: tail_db(&frame_energies(&vocal_signal, rate)).map(round),
        sung_seconds: round(sung_seconds),
        seconds: round(mono.len() as f64 / rate as f64),
        confidence,
    }
}

/// The song's balance read twice from the mask, LU: with each cell's energy split as the mask
/// says (`m` to the vocal, `1 − m` to the backing), and as resynthesis keeps it (`m²`, `(1 − m)²`).
/// Both from one spectral pass per channel, K-weighted as BS.1770 sums channels; a mono song
/// plays on both sides, as the assistant measures its inputs.
fn balance_readings(
    channels: &[Vec<f32>],
    rate: u32,
    mask: &separation::VocalMask,
    upper: &[f32],
) -> [Option<f64>; 2] {
    use crate::spectrum::{Analyser, FFT, HOP};
    let hz = rate as f64 / FFT as f64;
    let mut analyser = Analyser::new(rate);
    // vocal and backing, split and resynthesised
    let mut totals: [Blocks; 4] = Default::default();
    for c in channels {
        let mut loudness: [Vec<f32>; 4] = Default::default();
        analyser.visit_power(c, &mut |i, power, k| {
            let seconds = (i * HOP + FFT / 2) as f64 / rate as f64;
            let mut e = [0.0f32; 4];
            for (b, (&p, &k)) in power.iter().zip(k).enumerate() {
                let m = mask.at(seconds, b as f64 * hz, upper).clamp(0.0, 1.0);
                let pk = p * k;
                e[0] += m * pk;
                e[1] += (1.0 - m) * pk;
                e[2] += m * m * pk;
                e[3] += (1.0 - m) * (1.0 - m) * pk;
            }
            for (l, e) in loudness.iter_mut().zip(e) {
                l.push(crate::loudness::lufs(e as f64) as f32);
            }
        });
        for (t, l) in totals.iter_mut().zip(&loudness) {
            *t = t.plus(&blocks_of(l, c.len(), rate));
        }
    }
    if channels.len() == 1 {
        totals = totals.map(|t| t.scaled(2.0));
    }
    let balance = |v: &Blocks, b: &Blocks| v.integrated().zip(b.integrated()).map(|(v, b)| v - b);
    [
        balance(&totals[0], &totals[1]),
        balance(&totals[2], &totals[3]),
    ]
}

/// 100 ms loudness blocks from spectral frames' loudness (LUFS each) of a signal of `len`
/// samples: each block the mean K-weighted energy of the frames centred in it (a block no frame
/// centres in, at rates under 10 kHz, takes the nearest frame's).
fn blocks_of(loudness: &[f32], len: usize, rate: u32) -> Blocks {
    use crate::spectrum::{FFT, HOP};
    let block = (rate as usize + 5) / 10;
    let n = len / block;
    let mut sum = vec![0.0f64; n];
    let mut count = vec![0usize; n];
    let energy = |i: usize| crate::loudness::energy(loudness[i] as f64);
    for i in 0..loudness.len() {
        let j = (i * HOP + FFT / 2) / block;
        if j < n {
            sum[j] += energy(i);
            count[j] += 1;
        }
    }
    Blocks(
        (0..n)
            .map(|j| {
                if count[j] > 0 {
                    sum[j] / count[j] as f64
                } else if loudness.is_empty() {
                    0.0
                } else {
                    let centre = j * block + block / 2;
                    energy((centre.saturating_sub(FFT / 2) / HOP).min(loudness.len() - 1))
                }
            })
            .collect(),
    )
}

/// Reads a reference song from a file and measures it ([`measure_song`]); what decoding noticed
/// goes into the notes.
pub fn measure_file(
    models: &SeparationModels,
    path: &std::path::Path,
    progress: separation::Progress,
    cancel: Option<&std::sync::atomic::AtomicBool>,
) -> Result<Measured, ReferenceError> {
    let (mut audio, decoded) =
        automix_audio_io::audio_file::read(path).map_err(ReferenceError::File)?;
    let mut bad = 0usize;
    for v in audio.channels.iter_mut().flatten() {
        if !v.is_finite() {
            *v = 0.0;
            bad += 1;
        }
    }
    let seconds = audio.seconds();
    let mut m = measure_song(models, audio.channels, audio.sample_rate, progress, cancel)?;
    decoded.tell("the reference", path, seconds, &mut |n| m.notes.push(n));
    if bad > 0 {
        m.notes.push(format!(
            "{bad} samples were NaN or infinite and were treated as silence"
        ));
    }
    Ok(m)
}

/// Length of the frames [`tail_db`] reads, seconds.
pub const TAIL_FRAME_SECONDS: f64 = 0.01;
/// Frames (of 10 ms) of singing before a fall.
const BEFORE: usize = 15;
/// Where the fall is checked, frames after it starts.
const FALL: std::ops::Range<usize> = 5..15;
/// Where the tail is read, frames after the fall starts.
const TAIL: std::ops::Range<usize> = 10..30;
/// How far the level must fall, and stay fallen, dB.
const FALL_DB: f64 = 6.0;
/// How close to the vocal's loud passages (its 95th-percentile frame) the singing before a fall
/// must be, dB: a fall from a whisper says nothing about a tail.
const SINGING_WITHIN_DB: f64 = 15.0;
/// Phrase ends needed for a tail level.
pub const MIN_PHRASE_ENDS: usize = 5;
const QUIET_DB: f64 = -120.0;

/// Mean square of `mono` in frames of [`TAIL_FRAME_SECONDS`].
pub fn frame_energies(mono: &[f32], rate: u32) -> Vec<f64> {
    let len = ((rate as f64 * TAIL_FRAME_SECONDS).round() as usize).max(1);
    mono.chunks_exact(len)
        .map(|c| {
            c.iter()
                .map(|&x| {
                    if x.is_finite() {
                        (x as f64).powi(2)
                    } else {
                        0.0
                    }
                })
                .sum::<f64>()
                / len as f64
        })
        .collect()
}

fn db(e: f64) -> f64 {
    if e > 0.0 {
        (10.0 * e.log10()).max(QUIET_DB)
    } else {
        QUIET_DB
    }
}

/// How much tail a vocal carries: at each place where singing (within 15 dB of the vocal's loud
/// passages) falls by 6 dB or more and stays down for 300 ms — a phrase or a note ends — the
/// mean level 100–300 ms later relative to the 150 ms of singing before; the median over the
/// phrase ends, dB. A dry vocal reads its room and noise floor (−35 dB or lower); reverb lifts
/// it. `None` with fewer than [`MIN_PHRASE_ENDS`] phrase ends.
pub fn tail_db(energies: &[f64]) -> Option<f64> {
    let n = energies.len();
    let mut levels: Vec<f64> = energies
        .iter()
        .map(|&e| db(e))
        .filter(|&l| l > -70.0)
        .collect();
    if levels.len() < 100 {
        return None;
    }
    let at = (levels.len() - 1) * 95 / 100;
    let loud = *levels.select_nth_unstable_by(at, f64::total_cmp).1;
    let mut cum = Vec::with_capacity(n + 1);
    cum.push(0.0f64);
    for &e in energies {
        cum.push(cum.last().unwrap() + e.max(0.0));
    }
    let mean = |a: usize, b: usize| (cum[b] - cum[a]) / (b - a) as f64;
    let mut tails = Vec::new();
    let mut t = BEFORE;
    while t + TAIL.end <= n {
        let before = db(mean(t - BEFORE, t));
        let fell = |r: std::ops::Range<usize>| db(mean(t + r.start, t + r.end)) <= before - FALL_DB;
        let stays_down = energies[t + TAIL.start..t + TAIL.end]
            .iter()
            .all(|&e| db(e) <= before - FALL_DB / 2.0);
        if before >= loud - SINGING_WITHIN_DB && fell(FALL) && fell(TAIL) && stays_down {
            tails.push(db(mean(t + TAIL.start, t + TAIL.end)) - before);
            t += TAIL.end;
        } else {
            t += 1;
        }
    }
    if tails.len() < MIN_PHRASE_ENDS {
        return None;
    }
    tails.sort_by(f64::total_cmp);
    Some(tails[tails.len() / 2])
}

/// The energy envelope of a wet impulse response (both channels' mean) in frames of
/// [`TAIL_FRAME_SECONDS`]: the share of a frame's dry energy that lands each frame later.
pub fn tail_kernel(wet: &[Vec<f32>; 2], rate: u32) -> Vec<f64> {
    let len = ((rate as f64 * TAIL_FRAME_SECONDS).round() as usize).max(1);
    let frames = wet[0].len().div_ceil(len) + 1;
    let mut k = vec![0.0f64; frames];
    for ch in wet {
        for (lag, &w) in ch.iter().enumerate() {
            // a lag inside one frame reaches this frame and the next in proportion
            let (j, t) = (lag / len, (lag % len) as f64 / len as f64);
            let e = (w as f64).powi(2) / 2.0;
            k[j] += e * (1.0 - t);
            k[j + 1] += e * t;
        }
    }
    k
}

/// What [`match_dry_wet`] found.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DryWetMatch {
    pub dry_wet: f32,
    /// The tail the user's vocal has at that dry/wet, dB (`None`: too few phrase ends in it).
    pub tail_db: Option<f64>,
    /// The tail it has dry.
    pub dry_tail_db: Option<f64>,
}

/// The dry/wet (0–1) at which the reverb whose full-wet tail energy envelope is `kernel` gives a
/// vocal of frame energies `dry` (the vocal as it enters the reverb) the tail level `target_db`.
/// The reverb adds `w²·(dry ⊛ kernel)` to the dry energy (dry/wet scales only the tail), so each
/// candidate costs one pass over the frames; the tail level rises with `w` and is bisected.
pub fn match_dry_wet(dry: &[f64], kernel: &[f64], target_db: f64) -> DryWetMatch {
    let mut added = vec![0.0f64; dry.len()];
    for (i, &d) in dry.iter().enumerate() {
        if d == 0.0 {
            continue;
        }
        for (j, &k) in kernel.iter().enumerate() {
            match added.get_mut(i + j) {
                Some(a) => *a += d * k,
                None => break,
            }
        }
    }
    let at = |w: f64| {
        let e: Vec<f64> = dry.iter().zip(&added).map(|(d, a)| d + w * w * a).collect();
        tail_db(&e)
    };
    let dry_tail = at(0.0);
    let reaches = |w: f64| at(w).is_none_or(|t| t >= target_db);
    let (mut lo, mut hi) = (0.0f64, 1.0f64);
    if reaches(lo) {
        hi = 0.0;
    } else if !reaches(hi) {
        lo = 1.0;
    } else {
        // ten halvings: a thousandth of the range, the parameter's resolution
        for _ in 0..10 {
            let mid = 0.5 * (lo + hi);
            if reaches(mid) {
                hi = mid;
            } else {
                lo = mid;
            }
        }
    }
    let w = (0.5 * (lo + hi) * 1000.0).round() / 1000.0;
    DryWetMatch {
        dry_wet: w as f32,
        tail_db: at(w),
        dry_tail_db: dry_tail,
    }
}

/// The central value of several references' measures: the mean of each measure over the
/// references that have it (the tone band by band), their singing summed.
pub fn average(all: &[ReferenceMeasures]) -> Option<ReferenceMeasures> {
    if all.is_empty() {
        return None;
    }
    fn mean(v: impl Iterator<Item = f64>) -> Option<f64> {
        let (s, n) = v.fold((0.0, 0usize), |(s, n), x| (s + x, n + 1));
        (n > 0).then(|| crate::masking_eq::round2(s / n as f64))
    }
    let tones: Vec<[f64; 9]> = all.iter().filter_map(|m| m.tone_relative_db).collect();
    let shares: Vec<[f64; 9]> = all.iter().filter_map(|m| m.tone_vocal_share).collect();
    Some(ReferenceMeasures {
        vocal_minus_backing_lu: mean(all.iter().filter_map(|m| m.vocal_minus_backing_lu)),
        vocal_loudness_range_lu: mean(all.iter().filter_map(|m| m.vocal_loudness_range_lu)),
        tone_relative_db: (!tones.is_empty())
            .then(|| std::array::from_fn(|b| mean(tones.iter().map(|t| t[b])).unwrap_or(0.0))),
        tone_vocal_share: (!shares.is_empty())
            .then(|| std::array::from_fn(|b| mean(shares.iter().map(|t| t[b])).unwrap_or(0.0))),
        reverb_tail_db: mean(all.iter().filter_map(|m| m.reverb_tail_db)),
        sung_seconds: all.iter().map(|m| m.sung_seconds).sum(),
        seconds: all.iter().map(|m| m.seconds).sum(),
        confidence: Confidence::of_mean(
            &all.iter()
                .map(|m| m.confidence.as_ref())
                .collect::<Vec<_>>(),
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Phrases of noise, 0.6 s on and 0.4 s off, at frame resolution.
    fn phrases(floor_db: f64) -> Vec<f64> {
        (0..3000)
            .map(|i| {
                if i % 100 < 60 {
                    0.1
                } else {
                    0.1 * 10f64.powf(floor_db / 10.0)
                }
            })
            .collect()
    }

    #[test]
    fn the_tail_level_is_the_level_after_the_phrases_end() {
        for floor in [-50.0, -30.0, -15.0] {
            let t = tail_db(&phrases(floor)).expect("30 phrase ends");
            assert!((t - floor).abs() < 0.5, "{floor}: {t}");
        }
        // steady singing has no phrase end
        assert_eq!(tail_db(&[0.1; 3000]), None);
        assert_eq!(tail_db(&[]), None);
    }

    /// A kernel that puts a share of each frame's energy 10–40 frames later: the dry/wet found
    /// gives the asked tail, and a target under the dry tail leaves the reverb off.
    #[test]
    fn the_dry_wet_found_gives_the_tail_asked_for() {
        let dry = phrases(-60.0);
        let mut kernel = vec![0.0; 41];
        for k in &mut kernel[10..=40] {
            *k = 0.01;
        }
        for target in [-40.0, -30.0, -20.0] {
            let m = match_dry_wet(&dry, &kernel, target);
            assert!(m.dry_wet > 0.0 && m.dry_wet < 1.0, "{target}: {m:?}");
            let got = m.tail_db.expect("a tail");
            assert!((got - target).abs() < 0.5, "{target}: {m:?}");
        }
        let none = match_dry_wet(&dry, &kernel, -70.0);
        assert_eq!(none.dry_wet, 0.0);
        // a tail louder than any phrase end can show: as wet as phrase ends stay audible
        let most = match_dry_wet(&dry, &kernel, 10.0);
        assert!(
            most.dry_wet > match_dry_wet(&dry, &kernel, -20.0).dry_wet,
            "{most:?}"
        );
    }

    #[test]
    fn references_average_measure_by_measure() {
        let a = ReferenceMeasures {
            vocal_minus_backing_lu: Some(-2.0),
            vocal_loudness_range_lu: None,
            tone_relative_db: Some([0.0; 9]),
            tone_vocal_share: None,
            reverb_tail_db: Some(-30.0),
            sung_seconds: 10.0,
            seconds: 20.0,
            confidence: None,
        };
        let b = ReferenceMeasures {
            vocal_minus_backing_lu: Some(0.0),
            vocal_loudness_range_lu: Some(8.0),
            tone_relative_db: Some([2.0; 9]),
            tone_vocal_share: None,
            reverb_tail_db: None,
            sung_seconds: 5.0,
            seconds: 30.0,
            confidence: None,
        };
        let m = average(&[a, b]).unwrap();
        assert_eq!(m.vocal_minus_backing_lu, Some(-1.0));
        assert_eq!(m.vocal_loudness_range_lu, Some(8.0));
        assert_eq!(m.tone_relative_db, Some([1.0; 9]));
        assert_eq!(m.reverb_tail_db, Some(-30.0));
        assert_eq!(m.sung_seconds, 15.0);
        assert_eq!(average(&[]), None);
    }
}
