//! The one table of every mix parameter.
//!
//! The plug-in's host parameters, the CLI's `params` listing and JSON schema, and the DSP's smoothing
//! all derive from [`PARAMS`]; nothing else lists parameters by hand. Keys are stable: they are the
//! JSON keys of a parameter file and the plug-in's parameter ids, so renaming one breaks saved state.

use std::fmt;

/// A stage of the chain, in chain order: the one name of a stage everywhere — the parameter
/// table, the DSP's bypasses, the assistant's decisions and progress, its CNNs and their training
/// data, the suggestion's JSON and the editor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Stage {
    Eq,
    Compressor,
    Reverb,
    Level,
}

impl Stage {
    pub const ALL: [Stage; 4] = [Stage::Eq, Stage::Compressor, Stage::Reverb, Stage::Level];

    /// Stable machine name: the stage's key in a suggestion's `stages` and `cnn.stages`.
    pub fn key(self) -> &'static str {
        match self {
            Stage::Eq => "eq",
            Stage::Compressor => "compressor",
            Stage::Reverb => "reverb",
            Stage::Level => "level",
        }
    }

    /// The name a user reads: the editor's headings, host parameter names.
    pub fn name(self) -> &'static str {
        match self {
            Stage::Eq => "EQ",
            Stage::Compressor => "Compressor",
            Stage::Reverb => "Reverb",
            Stage::Level => "Level",
        }
    }

    /// What the stage does, inside a sentence ("the compression CNN", "deciding the level"):
    /// the research's names for the four decisions.
    pub fn label(self) -> &'static str {
        match self {
            Stage::Eq => "EQ",
            Stage::Compressor => "compression",
            Stage::Reverb => "reverb",
            Stage::Level => "level",
        }
    }

    /// The name of the stage's CNN, in `models.json`, its file (`compression.onnx`) and `automix
    /// dataset --task`: the stage's key, except that the compressor's model is named for the
    /// decision it predicts, as trained models (shipped and users' own) already carry it.
    pub fn model_name(self) -> &'static str {
        match self {
            Stage::Compressor => "compression",
            other => other.key(),
        }
    }

    pub fn from_model_name(name: &str) -> Option<Stage> {
        Stage::ALL.into_iter().find(|s| s.model_name() == name)
    }

    /// The parameter that bypasses this stage.
    pub fn bypass(self) -> ParamId {
        match self {
            Stage::Eq => ParamId::EqBypass,
            Stage::Compressor => ParamId::CompBypass,
            Stage::Reverb => ParamId::ReverbBypass,
            Stage::Level => ParamId::LevelBypass,
        }
    }

    /// The stage's parameters, bypass first, in the table's order.
    pub fn params(self) -> impl Iterator<Item = &'static ParamSpec> {
        PARAMS.iter().filter(move |p| p.stage == self)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    None,
    Decibel,
    Hertz,
    Milliseconds,
    Seconds,
    /// Compression ratio, shown as "3.2:1".
    Ratio,
    /// Extra decay of a reverb band, in dB per second.
    DecibelPerSecond,
    /// How fast a gain may move, in dB per second (unsigned).
    Slew,
    /// 0…1, shown as a percentage.
    Fraction,
}

impl Unit {
    pub fn symbol(self) -> &'static str {
        match self {
            Unit::None => "",
            Unit::Decibel => "dB",
            Unit::Hertz => "Hz",
            Unit::Milliseconds => "ms",
            Unit::Seconds => "s",
            Unit::Ratio => ":1",
            Unit::DecibelPerSecond | Unit::Slew => "dB/s",
            Unit::Fraction => "%",
        }
    }
}

/// How a parameter's range maps to a control's travel (host normalised value), and how the DSP
/// smooths it: logarithmic parameters glide in the log domain so a sweep sounds even.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Scale {
    Linear,
    Logarithmic,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Kind {
    Continuous,
    /// 0 = off, 1 = on.
    Toggle,
    /// One of a fixed set of values (stored as the value itself).
    Choice(&'static [f32]),
}

/// The plain description of one parameter.
#[derive(Clone, Copy, Debug)]
pub struct ParamSpec {
    pub id: ParamId,
    /// Stable key: JSON key and host parameter id.
    pub key: &'static str,
    /// Display name, short enough for a host's automation lane.
    pub name: &'static str,
    pub stage: Stage,
    pub unit: Unit,
    pub min: f32,
    pub max: f32,
    pub default: f32,
    pub scale: Scale,
    pub kind: Kind,
}

macro_rules! param_table {
    ($($id:ident: $key:literal, $name:literal, $stage:ident, $unit:ident,
       $min:literal ..= $max:literal, default $default:expr, $scale:ident, $kind:expr;)*) => {
        /// Index of a parameter in [`PARAMS`].
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u8)]
        pub enum ParamId { $($id),* }

        /// Every mix parameter, in chain order.
        pub static PARAMS: &[ParamSpec] = &[$(
            ParamSpec {
                id: ParamId::$id,
                key: $key,
                name: $name,
                stage: Stage::$stage,
                unit: Unit::$unit,
                min: $min,
                max: $max,
                default: $default,
                scale: Scale::$scale,
                kind: $kind,
            },
        )*];
    };
}

const C: Kind = Kind::Continuous;
const T: Kind = Kind::Toggle;

/// Reverb time the rule `RT = −T/45 + 40/9` gives at 120 BPM: the default before any analysis.
const DEFAULT_REVERB_TIME: f32 = -120.0 / 45.0 + 40.0 / 9.0;

param_table! {
    EqBypass: "eq_bypass", "EQ Bypass", Eq, None, 0.0 ..= 1.0, default 0.0, Linear, T;
    EqGain63: "eq_63hz_gain_db", "EQ 63 Hz Gain", Eq, Decibel, -15.0 ..= 15.0, default 0.0, Linear, C;
    EqQ63: "eq_63hz_q", "EQ 63 Hz Q", Eq, None, 0.3 ..= 8.0, default 1.0, Logarithmic, C;
    EqGain125: "eq_125hz_gain_db", "EQ 125 Hz Gain", Eq, Decibel, -15.0 ..= 15.0, default 0.0, Linear, C;
    EqQ125: "eq_125hz_q", "EQ 125 Hz Q", Eq, None, 0.3 ..= 8.0, default 1.0, Logarithmic, C;
    EqGain250: "eq_250hz_gain_db", "EQ 250 Hz Gain", Eq, Decibel, -15.0 ..= 15.0, default 0.0, Linear, C;
    EqQ250: "eq_250hz_q", "EQ 250 Hz Q", Eq, None, 0.3 ..= 8.0, default 1.0, Logarithmic, C;
    EqGain500: "eq_500hz_gain_db", "EQ 500 Hz Gain", Eq, Decibel, -15.0 ..= 15.0, default 0.0, Linear, C;
    EqQ500: "eq_500hz_q", "EQ 500 Hz Q", Eq, None, 0.3 ..= 8.0, default 1.0, Logarithmic, C;
    EqGain1k: "eq_1khz_gain_db", "EQ 1 kHz Gain", Eq, Decibel, -15.0 ..= 15.0, default 0.0, Linear, C;
    EqQ1k: "eq_1khz_q", "EQ 1 kHz Q", Eq, None, 0.3 ..= 8.0, default 1.0, Logarithmic, C;
    EqGain2k: "eq_2khz_gain_db", "EQ 2 kHz Gain", Eq, Decibel, -15.0 ..= 15.0, default 0.0, Linear, C;
    EqQ2k: "eq_2khz_q", "EQ 2 kHz Q", Eq, None, 0.3 ..= 8.0, default 1.0, Logarithmic, C;
    EqGain4k: "eq_4khz_gain_db", "EQ 4 kHz Gain", Eq, Decibel, -15.0 ..= 15.0, default 0.0, Linear, C;
    EqQ4k: "eq_4khz_q", "EQ 4 kHz Q", Eq, None, 0.3 ..= 8.0, default 1.0, Logarithmic, C;
    EqGain8k: "eq_8khz_gain_db", "EQ 8 kHz Gain", Eq, Decibel, -15.0 ..= 15.0, default 0.0, Linear, C;
    EqQ8k: "eq_8khz_q", "EQ 8 kHz Q", Eq, None, 0.3 ..= 8.0, default 1.0, Logarithmic, C;
    EqGain16k: "eq_16khz_gain_db", "EQ 16 kHz Gain", Eq, Decibel, -15.0 ..= 15.0, default 0.0, Linear, C;
    EqQ16k: "eq_16khz_q", "EQ 16 kHz Q", Eq, None, 0.3 ..= 8.0, default 1.0, Logarithmic, C;
    EqHighpassOn: "eq_highpass_on", "EQ High-pass", Eq, None, 0.0 ..= 1.0, default 0.0, Linear, T;
    EqHighpassFreq: "eq_highpass_hz", "EQ High-pass Freq", Eq, Hertz, 20.0 ..= 400.0, default 80.0, Logarithmic, C;
    DeessOn: "deess_on", "De-esser", Eq, None, 0.0 ..= 1.0, default 0.0, Linear, T;
    DeessFreq: "deess_hz", "De-esser Freq", Eq, Hertz, 2000.0 ..= 12000.0, default 4000.0, Logarithmic, C;
    DeessThreshold: "deess_threshold_db", "De-esser Threshold", Eq, Decibel, -60.0 ..= 0.0, default -30.0, Linear, C;
    DeessRange: "deess_range_db", "De-esser Range", Eq, Decibel, 0.0 ..= 18.0, default 6.0, Linear, C;
    DeessListen: "deess_listen", "De-esser Listen", Eq, None, 0.0 ..= 1.0, default 0.0, Linear, T;

    CompBypass: "comp_bypass", "Comp Bypass", Compressor, None, 0.0 ..= 1.0, default 0.0, Linear, T;
    CompThreshold: "comp_threshold_db", "Comp Threshold", Compressor, Decibel, -50.0 ..= 0.0, default 0.0, Linear, C;
    CompRatio: "comp_ratio", "Comp Ratio", Compressor, Ratio, 1.0 ..= 20.0, default 3.0, Logarithmic, C;
    CompKnee: "comp_knee_db", "Comp Knee", Compressor, Decibel, 0.0 ..= 24.0, default 0.0, Linear, C;
    CompAttack: "comp_attack_ms", "Comp Attack", Compressor, Milliseconds, 0.1 ..= 100.0, default 30.0, Logarithmic, C;
    CompRelease: "comp_release_ms", "Comp Release", Compressor, Milliseconds, 5.0 ..= 500.0, default 150.0, Logarithmic, C;
    CompMakeup: "comp_makeup_db", "Comp Make-up", Compressor, Decibel, -10.0 ..= 24.0, default 0.0, Linear, C;

    ReverbBypass: "reverb_bypass", "Reverb Bypass", Reverb, None, 0.0 ..= 1.0, default 0.0, Linear, T;
    ReverbRoomSize: "reverb_room_size", "Reverb Room Size", Reverb, None, 1.0 ..= 30.0, default 14.54, Linear, C;
    ReverbTime: "reverb_time_s", "Reverb Time", Reverb, Seconds, 0.1 ..= 9.0, default DEFAULT_REVERB_TIME, Logarithmic, C;
    ReverbFadeIn: "reverb_fade_in_s", "Reverb Fade-in", Reverb, Seconds, 0.0 ..= 9.0, default 0.68, Linear, C;
    ReverbDryWet: "reverb_dry_wet", "Reverb Dry/Wet", Reverb, Fraction, 0.0 ..= 1.0, default 0.115, Linear, C;
    ReverbLowCutoff: "reverb_low_cutoff_hz", "Reverb Low Cutoff", Reverb, Hertz, 20.0 ..= 2000.0, default 100.0, Logarithmic, C;
    ReverbLowQ: "reverb_low_q", "Reverb Low Q", Reverb, None, 0.01 ..= 0.9, default 0.5, Linear, C;
    ReverbLowGain: "reverb_low_gain_db_per_s", "Reverb Low Gain", Reverb, DecibelPerSecond, -80.0 ..= 6.0, default 1.0, Linear, C;
    ReverbHighCutoff: "reverb_high_cutoff_hz", "Reverb High Cutoff", Reverb, Hertz, 1000.0 ..= 20000.0, default 2000.0, Logarithmic, C;
    ReverbHighQ: "reverb_high_q", "Reverb High Q", Reverb, None, 0.01 ..= 0.9, default 0.5, Linear, C;
    ReverbHighGain: "reverb_high_gain_db_per_s", "Reverb High Gain", Reverb, DecibelPerSecond, -80.0 ..= 4.0, default -10.0, Linear, C;
    ReverbFdnSize: "reverb_fdn_size", "Reverb FDN Size", Reverb, None, 16.0 ..= 64.0, default 16.0, Linear, Kind::Choice(&[16.0, 32.0, 64.0]);

    LevelBypass: "level_bypass", "Level Bypass", Level, None, 0.0 ..= 1.0, default 0.0, Linear, T;
    LevelGain: "level_gain_db", "Vocal Level", Level, Decibel, -40.0 ..= 20.0, default 0.0, Linear, C;
    RideOn: "level_ride_on", "Ride", Level, None, 0.0 ..= 1.0, default 0.0, Linear, T;
    RideRange: "level_ride_range_db", "Ride Range", Level, Decibel, 0.0 ..= 12.0, default 6.0, Linear, C;
    RideSpeed: "level_ride_speed_db_per_s", "Ride Speed", Level, Slew, 0.5 ..= 24.0, default 12.0, Logarithmic, C;
    RideBalance: "level_ride_balance_db", "Ride Balance", Level, Decibel, -30.0 ..= 30.0, default 0.0, Linear, C;
}

/// Number of parameters.
pub const PARAM_COUNT: usize = ParamId::RideBalance as usize + 1;

/// The nine EQ bands: centre frequency and their gain and Q parameters.
pub const EQ_BANDS: [(f32, ParamId, ParamId); 9] = [
    (63.0, ParamId::EqGain63, ParamId::EqQ63),
    (125.0, ParamId::EqGain125, ParamId::EqQ125),
    (250.0, ParamId::EqGain250, ParamId::EqQ250),
    (500.0, ParamId::EqGain500, ParamId::EqQ500),
    (1000.0, ParamId::EqGain1k, ParamId::EqQ1k),
    (2000.0, ParamId::EqGain2k, ParamId::EqQ2k),
    (4000.0, ParamId::EqGain4k, ParamId::EqQ4k),
    (8000.0, ParamId::EqGain8k, ParamId::EqQ8k),
    (16000.0, ParamId::EqGain16k, ParamId::EqQ16k),
];

impl ParamId {
    pub fn spec(self) -> &'static ParamSpec {
        &PARAMS[self as usize]
    }

    pub fn key(self) -> &'static str {
        self.spec().key
    }

    pub fn all() -> impl Iterator<Item = ParamId> {
        PARAMS.iter().map(|p| p.id)
    }

    pub fn from_key(key: &str) -> Option<ParamId> {
        PARAMS.iter().find(|p| p.key == key).map(|p| p.id)
    }
}

/// What happened when a value was brought into a parameter's range.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Conformed {
    Exact(f32),
    /// Outside the range (or not one of the choices): the nearest allowed value.
    Clamped(f32),
}

impl Conformed {
    pub fn value(self) -> f32 {
        match self {
            Conformed::Exact(v) | Conformed::Clamped(v) => v,
        }
    }
}

impl ParamSpec {
    /// Brings `v` into range: clamps continuous values, snaps toggles and choices.
    /// A non-finite value becomes the default (reported as clamped).
    pub fn conform(&self, v: f32) -> Conformed {
        if !v.is_finite() {
            return Conformed::Clamped(self.default);
        }
        let c = match self.kind {
            Kind::Continuous => v.clamp(self.min, self.max),
            Kind::Toggle => {
                if v >= 0.5 {
                    1.0
                } else {
                    0.0
                }
            }
            Kind::Choice(options) => options
                .iter()
                .copied()
                .min_by(|a, b| (a - v).abs().total_cmp(&(b - v).abs()))
                .unwrap_or(self.default),
        };
        if c == v {
            Conformed::Exact(c)
        } else {
            Conformed::Clamped(c)
        }
    }

    /// Maps a plain value to the 0…1 travel of a control.
    pub fn normalize(&self, v: f32) -> f32 {
        let v = self.conform(v).value();
        let t = match (self.scale, self.kind) {
            (_, Kind::Choice(options)) => {
                let i = options.iter().position(|o| *o == v).unwrap_or(0);
                return if options.len() > 1 {
                    i as f32 / (options.len() - 1) as f32
                } else {
                    0.0
                };
            }
            (Scale::Logarithmic, _) => (v / self.min).ln() / (self.max / self.min).ln(),
            (Scale::Linear, _) => (v - self.min) / (self.max - self.min),
        };
        t.clamp(0.0, 1.0)
    }

    /// Inverse of [`ParamSpec::normalize`].
    pub fn denormalize(&self, t: f32) -> f32 {
        let t = if t.is_finite() {
            t.clamp(0.0, 1.0)
        } else {
            self.normalize(self.default)
        };
        let v = match (self.scale, self.kind) {
            (_, Kind::Choice(options)) => {
                let i = (t * (options.len() - 1) as f32).round() as usize;
                return options[i.min(options.len() - 1)];
            }
            (Scale::Logarithmic, _) => self.min * (self.max / self.min).powf(t),
            (Scale::Linear, _) => self.min + t * (self.max - self.min),
        };
        self.conform(v).value()
    }

    /// The value as a mixing engineer writes it: "-3.5 dB", "2.20 s", "4.0 kHz", "3.2:1", "11.5 %".
    pub fn format(&self, v: f32) -> String {
        match self.kind {
            Kind::Toggle => return if v >= 0.5 { "On".into() } else { "Off".into() },
            Kind::Choice(_) => return format!("{v:.0}"),
            Kind::Continuous => {}
        }
        // the precision steps where the rounded value crosses the threshold, so a host's
        // 99.99999 Hz reads "100 Hz" like the 100 Hz it stands for
        match self.unit {
            Unit::Hertz if v >= 999.5 => format!("{:.2} kHz", v / 1000.0),
            Unit::Hertz if v < 99.95 => format!("{v:.1} Hz"),
            Unit::Hertz => format!("{v:.0} Hz"),
            Unit::Decibel => format!("{} dB", signed(v)),
            Unit::DecibelPerSecond => format!("{} dB/s", signed(v)),
            Unit::Slew if v < 9.995 => format!("{v:.2} dB/s"),
            Unit::Slew => format!("{v:.1} dB/s"),
            Unit::Milliseconds if v < 9.995 => format!("{v:.2} ms"),
            Unit::Milliseconds => format!("{v:.1} ms"),
            Unit::Seconds => format!("{v:.2} s"),
            Unit::Ratio if v < 9.995 => format!("{v:.2}:1"),
            Unit::Ratio => format!("{v:.1}:1"),
            Unit::Fraction => format!("{:.1} %", v * 100.0),
            Unit::None => format!("{v:.2}"),
        }
    }

    /// Parses what [`ParamSpec::format`] writes, and what people type: "4k", "4 kHz", "3.2:1",
    /// "-3", "12%", "on". Returns the plain value, not yet conformed.
    pub fn parse(&self, text: &str) -> Option<f32> {
        let t = text.trim().to_ascii_lowercase();
        if let Kind::Toggle = self.kind {
            return match t.as_str() {
                "on" | "true" | "yes" | "1" | "bypassed" => Some(1.0),
                "off" | "false" | "no" | "0" => Some(0.0),
                _ => None,
            };
        }
        let t = t.replace(',', ".");
        let (num_end, _) = t
            .char_indices()
            .find(|(_, c)| !(c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e')))
            .unwrap_or((t.len(), ' '));
        // "e" belongs to the number only as an exponent; trim it off a word like "ems".
        let number = t[..num_end].trim_end_matches('e');
        let rest = t[number.len()..].trim();
        let mut v: f32 = number.parse().ok()?;
        let rest = rest.trim_start_matches([' ']);
        if rest.starts_with('k') {
            v *= 1000.0;
        } else if rest.starts_with('%') || (self.unit == Unit::Fraction && rest.starts_with("pct"))
        {
            v /= 100.0;
        } else if self.unit == Unit::Seconds && rest.starts_with("ms") {
            v /= 1000.0;
        } else if self.unit == Unit::Milliseconds && rest == "s" {
            v *= 1000.0;
        }
        v.is_finite().then_some(v)
    }
}

/// A signed value to one decimal; a value that rounds to zero reads "+0.0", never "-0.0", so the
/// text converts back to the value it came from and that value to the same text.
fn signed(v: f32) -> String {
    let text = format!("{v:+.1}");
    if text == "-0.0" { "+0.0".into() } else { text }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A value for every parameter.
#[derive(Clone, Debug, PartialEq)]
pub struct MixParams {
    values: [f32; PARAM_COUNT],
}

impl Default for MixParams {
    fn default() -> Self {
        let mut values = [0.0; PARAM_COUNT];
        for p in PARAMS {
            values[p.id as usize] = p.default;
        }
        MixParams { values }
    }
}

impl MixParams {
    pub fn get(&self, id: ParamId) -> f32 {
        self.values[id as usize]
    }

    pub fn on(&self, id: ParamId) -> bool {
        self.get(id) >= 0.5
    }

    /// Sets a value, brought into range; says whether it had to be changed.
    pub fn set(&mut self, id: ParamId, v: f32) -> Conformed {
        let c = id.spec().conform(v);
        self.values[id as usize] = c.value();
        c
    }

    pub fn iter(&self) -> impl Iterator<Item = (ParamId, f32)> + '_ {
        PARAMS.iter().map(|p| (p.id, self.values[p.id as usize]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_indexed_by_id_and_keys_are_unique() {
        for (i, p) in PARAMS.iter().enumerate() {
            assert_eq!(p.id as usize, i, "{} out of order", p.key);
            assert!(p.min < p.max, "{}", p.key);
            assert_eq!(
                p.conform(p.default),
                Conformed::Exact(p.default),
                "{} default out of range",
                p.key
            );
            assert_eq!(ParamId::from_key(p.key), Some(p.id));
        }
        let mut keys: Vec<_> = PARAMS.iter().map(|p| p.key).collect();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), PARAM_COUNT);
    }

    #[test]
    fn normalize_round_trips() {
        for p in PARAMS {
            for t in [0.0, 0.1, 0.37, 0.5, 0.9, 1.0] {
                let v = p.denormalize(t);
                let back = p.denormalize(p.normalize(v));
                assert!(
                    (v - back).abs() <= 1e-4 * v.abs().max(1.0),
                    "{}: {v} -> {back}",
                    p.key
                );
            }
        }
    }

    #[test]
    fn a_value_a_hair_off_a_precision_step_reads_as_the_value_it_stands_for() {
        // hosts hand back values through f32 normalisation: 100 Hz comes back as 99.99999
        let hz = ParamId::ReverbLowCutoff.spec();
        assert_eq!(hz.format(99.999_99), "100 Hz");
        assert_eq!(hz.format(99.94), "99.9 Hz");
        assert_eq!(hz.format(999.99), "1.00 kHz");
        assert_eq!(hz.format(999.4), "999 Hz");
        let ms = ParamId::CompAttack.spec();
        assert_eq!(ms.format(9.999_99), "10.0 ms");
        assert_eq!(ms.format(9.99), "9.99 ms");
        let ratio = ParamId::CompRatio.spec();
        assert_eq!(ratio.format(9.999_99), "10.0:1");
    }

    #[test]
    fn display_text_parses_back() {
        for p in PARAMS {
            for t in [0.0, 0.25, 0.5, 0.8, 1.0] {
                let v = p.denormalize(t);
                let text = p.format(v);
                let parsed = p
                    .parse(&text)
                    .unwrap_or_else(|| panic!("{}: cannot parse {text:?}", p.key));
                let tol = 0.006 * v.abs().max(1.0);
                assert!(
                    (parsed - v).abs() <= tol,
                    "{}: {v} -> {text:?} -> {parsed}",
                    p.key
                );
            }
        }
    }

    #[test]
    fn a_value_that_rounds_to_zero_reads_without_a_minus() {
        let db = ParamId::CompMakeup.spec();
        assert_eq!(db.format(-0.01), "+0.0 dB");
        assert_eq!(db.format(-0.05), "-0.1 dB");
        let back = db.parse(&db.format(-0.01)).unwrap();
        assert_eq!(db.format(back), "+0.0 dB");
    }

    #[test]
    fn parses_what_engineers_type() {
        let hz = ParamId::ReverbHighCutoff.spec();
        assert_eq!(hz.parse("4k"), Some(4000.0));
        assert_eq!(hz.parse("4.5 kHz"), Some(4500.0));
        assert_eq!(ParamId::CompRatio.spec().parse("3.2:1"), Some(3.2));
        assert_eq!(ParamId::ReverbDryWet.spec().parse("12%"), Some(0.12));
        assert_eq!(ParamId::ReverbTime.spec().parse("500 ms"), Some(0.5));
        assert_eq!(ParamId::LevelGain.spec().parse("-3.5 dB"), Some(-3.5));
        assert_eq!(ParamId::EqBypass.spec().parse("On"), Some(1.0));
        assert_eq!(ParamId::LevelGain.spec().parse("loud"), None);
    }

    #[test]
    fn conform_clamps_and_snaps() {
        let g = ParamId::LevelGain.spec();
        assert_eq!(g.conform(99.0), Conformed::Clamped(20.0));
        assert_eq!(g.conform(f32::NAN), Conformed::Clamped(0.0));
        let n = ParamId::ReverbFdnSize.spec();
        assert_eq!(n.conform(40.0), Conformed::Clamped(32.0));
        assert_eq!(n.conform(64.0), Conformed::Exact(64.0));
    }

    #[test]
    fn each_stage_has_one_key_one_model_its_bypass_and_its_parameters() {
        let mut keys: Vec<&str> = Stage::ALL.iter().map(|s| s.key()).collect();
        keys.dedup();
        assert_eq!(keys.len(), 4);
        for stage in Stage::ALL {
            assert_eq!(Stage::from_model_name(stage.model_name()), Some(stage));
            assert_eq!(stage.bypass().spec().stage, stage);
            assert_eq!(stage.bypass().spec().kind, Kind::Toggle);
            let params: Vec<ParamId> = stage.params().map(|p| p.id).collect();
            assert_eq!(params.first(), Some(&stage.bypass()), "{stage:?}");
            // no parameter of another stage, and every parameter of this one
            let owned = PARAMS.iter().filter(|p| p.stage == stage).count();
            assert_eq!(params.len(), owned);
        }
        // the table lists the stages in chain order
        let order: Vec<Stage> = PARAMS.iter().map(|p| p.stage).collect();
        assert!(order.windows(2).all(|w| w[0] <= w[1]));
        assert_eq!(Stage::from_model_name("compressor"), None);
    }
}
