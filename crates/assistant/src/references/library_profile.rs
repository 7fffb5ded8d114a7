//! "Mix like my records": a folder of songs measured as references ([`crate::reference`]) and
//! summarised per measure by its median (what the assistant aims at: one odd song does not move
//! it) and its spread (the standard deviation, so a user sees how much their records agree).
//! Written by `automix learn`, read by `--profile` and the plug-in.

use serde::{Deserialize, Serialize};

use crate::reference::{Confidence, LOW_CONFIDENCE, ReferenceMeasures};
use automix_dsp::params::Stage;

pub const FORMAT: &str = "vocal-automix/profile";
pub const VERSION: u32 = 1;

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Song {
    pub file: String,
    pub measures: ReferenceMeasures,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Skipped {
    pub file: String,
    pub why: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct LibraryProfile {
    pub format: String,
    pub version: u32,
    /// Songs measured (those skipped are not counted).
    pub songs: usize,
    /// Per measure, the median over the songs that have it (the tone band by band).
    pub median: ReferenceMeasures,
    /// Per measure, the standard deviation over those songs (0 with one song).
    pub spread: ReferenceMeasures,
    pub measured: Vec<Song>,
    pub skipped: Vec<Skipped>,
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    })
}

fn spread(v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    let var = if v.len() > 1 {
        v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)
    } else {
        0.0
    };
    Some(var.sqrt())
}

/// The songs whose measure for `stage` is confident ([`LOW_CONFIDENCE`] or more), or every song
/// when none is: a profile's target is the median of the songs it can trust.
fn confident<'a>(all: &[&'a ReferenceMeasures], stage: Stage) -> Vec<&'a ReferenceMeasures> {
    let sure: Vec<&ReferenceMeasures> = all
        .iter()
        .copied()
        .filter(|m| m.confidence_of(stage) >= LOW_CONFIDENCE)
        .collect();
    if sure.is_empty() { all.to_vec() } else { sure }
}

/// One statistic (`stat`) of every measure over the songs confident of it.
fn summarise(all: &[&ReferenceMeasures], stat: fn(Vec<f64>) -> Option<f64>) -> ReferenceMeasures {
    let round = |v: Option<f64>| v.map(crate::masking_eq::round2);
    let of = |stage: Stage, f: &dyn Fn(&ReferenceMeasures) -> Option<f64>| {
        round(stat(
            confident(all, stage).iter().filter_map(|m| f(m)).collect(),
        ))
    };
    let bands = |f: &dyn Fn(&ReferenceMeasures) -> Option<[f64; 9]>| {
        let have: Vec<[f64; 9]> = confident(all, Stage::Eq)
            .iter()
            .filter_map(|m| f(m))
            .collect();
        (!have.is_empty()).then(|| {
            std::array::from_fn(|b| round(stat(have.iter().map(|t| t[b]).collect())).unwrap_or(0.0))
        })
    };
    let each = |f: &dyn Fn(&ReferenceMeasures) -> Option<f64>| {
        round(stat(all.iter().filter_map(|m| f(m)).collect()))
    };
    ReferenceMeasures {
        vocal_minus_backing_lu: of(Stage::Level, &|m| m.vocal_minus_backing_lu),
        vocal_loudness_range_lu: of(Stage::Compressor, &|m| m.vocal_loudness_range_lu),
        tone_relative_db: bands(&|m| m.tone_relative_db),
        tone_vocal_share: bands(&|m| m.tone_vocal_share),
        reverb_tail_db: of(Stage::Reverb, &|m| m.reverb_tail_db),
        sung_seconds: each(&|m| Some(m.sung_seconds)).unwrap_or(0.0),
        seconds: each(&|m| Some(m.seconds)).unwrap_or(0.0),
        confidence: None,
    }
}

/// The confidence of a profile's medians: that of the mean of the songs each median is taken
/// over (a median of n is a little less sure than their mean; the difference is within what
/// the errors themselves are known to).
fn median_confidence(all: &[&ReferenceMeasures]) -> Option<Confidence> {
    let of = |stage: Stage| {
        let songs = confident(all, stage);
        Confidence::of_mean(
            &songs
                .iter()
                .map(|m| m.confidence.as_ref())
                .collect::<Vec<_>>(),
        )
    };
    let level = of(Stage::Level)?;
    let w = |stage: Stage| of(stage).map_or(1.0, |c| c.confidence_of_stage(stage));
    Some(Confidence {
        loudness_range: w(Stage::Compressor),
        tone: w(Stage::Eq),
        reverb: w(Stage::Reverb),
        ..level
    })
}

impl LibraryProfile {
    /// The profile of `measured` songs; `None` when none was measured.
    pub fn new(measured: Vec<Song>, skipped: Vec<Skipped>) -> Option<LibraryProfile> {
        if measured.is_empty() {
            return None;
        }
        let all: Vec<&ReferenceMeasures> = measured.iter().map(|s| &s.measures).collect();
        Some(LibraryProfile {
            format: FORMAT.into(),
            version: VERSION,
            songs: measured.len(),
            median: ReferenceMeasures {
                confidence: median_confidence(&all),
                ..summarise(&all, median)
            },
            spread: summarise(&all, spread),
            measured,
            skipped,
        })
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a profile always serialises")
    }

    /// Whether `path` names a profile (`automix learn`'s JSON) rather than a song.
    pub fn is_profile_path(path: &std::path::Path) -> bool {
        path.extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"))
    }

    /// Reads the profile file at `path`, the one loader of the CLI's `--profile` and the
    /// plug-in's reference panel; the message names the file and says what is wrong with it.
    pub fn read(path: &std::path::Path) -> Result<LibraryProfile, String> {
        let shown = path.display();
        let text = std::fs::read_to_string(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::InvalidData => {
                format!("{shown} is not a profile (not text); make one with `automix learn`")
            }
            _ => format!("cannot read the profile {shown}: {e}"),
        })?;
        LibraryProfile::from_json(&text).map_err(|e| format!("{shown}: {e}"))
    }

    /// Reads a profile, with a message that says what is wrong with a file that is not one.
    pub fn from_json(text: &str) -> Result<LibraryProfile, String> {
        let v: serde_json::Value = serde_json::from_str(text)
            .map_err(|e| format!("not a profile (not JSON: {e}); make one with `automix learn`"))?;
        if v.get("format").and_then(|f| f.as_str()) != Some(FORMAT) {
            return Err("not a profile made by `automix learn`".into());
        }
        let p: LibraryProfile = serde_json::from_value(v)
            .map_err(|e| format!("a damaged profile ({e}); make it again with `automix learn`"))?;
        if p.version > VERSION {
            return Err(format!(
                "a profile of version {}; this Vocal Automix reads up to version {VERSION}",
                p.version
            ));
        }
        if p.songs == 0 || p.measured.is_empty() {
            return Err("the profile has no measured songs".into());
        }
        Ok(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(vmb: f64, tail: Option<f64>) -> ReferenceMeasures {
        ReferenceMeasures {
            vocal_minus_backing_lu: Some(vmb),
            vocal_loudness_range_lu: Some(vmb.abs()),
            tone_relative_db: Some([vmb; 9]),
            tone_vocal_share: None,
            reverb_tail_db: tail,
            sung_seconds: 60.0,
            seconds: 180.0,
            confidence: None,
        }
    }

    #[test]
    fn the_profile_is_the_median_and_one_odd_song_does_not_move_it() {
        let songs: Vec<Song> = [-2.0, -1.0, -3.0, 9.0]
            .iter()
            .enumerate()
            .map(|(i, &v)| Song {
                file: format!("{i}.wav"),
                measures: m(v, (i < 2).then_some(-20.0 - i as f64)),
            })
            .collect();
        let p = LibraryProfile::new(songs, vec![]).unwrap();
        assert_eq!(p.songs, 4);
        assert_eq!(p.median.vocal_minus_backing_lu, Some(-1.5));
        assert_eq!(p.median.tone_relative_db.unwrap()[3], -1.5);
        // only two songs have a tail
        assert_eq!(p.median.reverb_tail_db, Some(-20.5));
        assert!(p.spread.vocal_minus_backing_lu.unwrap() > 5.0);
        let back = LibraryProfile::from_json(&p.to_json()).unwrap();
        assert_eq!(back, p);
        assert!(LibraryProfile::new(vec![], vec![]).is_none());
    }

    /// A song whose balance the separator doubts is left out of the level's median (and the
    /// profile says how sure its median is); with no confident song, every song counts.
    #[test]
    fn the_level_target_is_the_median_of_the_confident_songs() {
        let with = |vmb: f64, spread: f64| {
            let mut x = m(vmb, None);
            x.confidence = Confidence::of_separation(Some(vmb), Some(vmb - spread), None, 60.0);
            x
        };
        let song = |i: usize, measures| Song {
            file: format!("{i}.wav"),
            measures,
        };
        let sure = [with(-2.0, 0.0), with(-3.0, 0.0), with(-1.0, 0.0)];
        let doubtful = [with(6.0, 8.0), with(7.0, 8.0)];
        assert!(
            sure.iter()
                .all(|m| m.confidence_of(Stage::Level) >= LOW_CONFIDENCE)
        );
        assert!(
            doubtful
                .iter()
                .all(|m| m.confidence_of(Stage::Level) < LOW_CONFIDENCE)
        );
        let all: Vec<Song> = sure
            .iter()
            .chain(&doubtful)
            .cloned()
            .enumerate()
            .map(|(i, m)| song(i, m))
            .collect();
        let p = LibraryProfile::new(all, vec![]).unwrap();
        assert_eq!(p.median.vocal_minus_backing_lu, Some(-2.0));
        let c = p
            .median
            .confidence
            .as_ref()
            .expect("separated songs give a confidence");
        // three sure songs together are surer than one
        assert!(c.balance > sure[0].confidence_of(Stage::Level), "{c:?}");
        // only doubtful songs: their median, in doubt
        let p = LibraryProfile::new(
            doubtful
                .iter()
                .cloned()
                .enumerate()
                .map(|(i, m)| song(i, m))
                .collect(),
            vec![],
        )
        .unwrap();
        assert_eq!(p.median.vocal_minus_backing_lu, Some(6.5));
        assert!(p.median.confidence_of(Stage::Level) < LOW_CONFIDENCE);
    }

    #[test]
    fn what_is_not_a_profile_says_so() {
        for bad in ["", "{", "[]", "{\"format\": \"vocal-automix/suggestion\"}"] {
            let e = LibraryProfile::from_json(bad).unwrap_err();
            assert!(e.contains("profile"), "{bad}: {e}");
        }
        let e =
            LibraryProfile::from_json("{\"format\": \"vocal-automix/profile\", \"version\": 1}")
                .unwrap_err();
        assert!(e.contains("damaged"), "{e}");
    }
}
