//! The inputs the evaluation mixes: the professional vocal as it is, with a random gain, and with
//! the research's random EQ (four of the nine octave bells, ±12 dB, Q 1) and a random gain.

use super::metrics::Stereo;
use automix_dsp::VocalChain;
use automix_dsp::params::{EQ_BANDS, MixParams, ParamId, Stage};
use automix_dsp::synth::Rng;

pub const GAIN_RANGE_DB: f32 = 10.0;
pub const EQ_RANGE_DB: f32 = 12.0;
pub const EQ_CHANGED_BANDS: usize = 4;

/// How the professional vocal is changed before the assistant sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum InputKind {
    AsIs,
    Gain,
    EqGain,
}

impl InputKind {
    pub const ALL: [InputKind; 3] = [InputKind::AsIs, InputKind::Gain, InputKind::EqGain];

    pub fn name(self) -> &'static str {
        match self {
            InputKind::AsIs => "as is",
            InputKind::Gain => "gain",
            InputKind::EqGain => "EQ+gain",
        }
    }
}

/// What was done to the vocal.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Degradation {
    pub gain_db: f32,
    /// (band centre Hz, gain dB) of each changed bell.
    pub eq: Vec<(f32, f32)>,
}

impl std::fmt::Display for Degradation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:+.1} dB", self.gain_db)?;
        for (hz, g) in &self.eq {
            write!(f, ", {g:+.1} dB at {hz} Hz")?;
        }
        Ok(())
    }
}

/// A seed for `song` that does not depend on which other songs are evaluated (FNV-1a).
pub fn song_seed(seed: u64, song: &str) -> u64 {
    song.bytes().fold(0xcbf2_9ce4_8422_2325 ^ seed, |h, b| {
        (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The random change for `kind`, drawn from `seed`.
pub fn draw(kind: InputKind, seed: u64) -> Degradation {
    let mut rng = Rng::new(seed);
    let gain = |rng: &mut Rng| (rng.bipolar() * GAIN_RANGE_DB * 10.0).round() / 10.0;
    match kind {
        InputKind::AsIs => Degradation::default(),
        InputKind::Gain => Degradation {
            gain_db: gain(&mut rng),
            eq: Vec::new(),
        },
        InputKind::EqGain => {
            let mut bands: Vec<usize> = (0..EQ_BANDS.len()).collect();
            // a partial Fisher–Yates shuffle picks four distinct bands
            for i in 0..EQ_CHANGED_BANDS {
                let j = i + (rng.next_u64() % (bands.len() - i) as u64) as usize;
                bands.swap(i, j);
            }
            let mut eq: Vec<(f32, f32)> = bands[..EQ_CHANGED_BANDS]
                .iter()
                .map(|&b| {
                    let g = (rng.bipolar() * EQ_RANGE_DB * 10.0).round() / 10.0;
                    (EQ_BANDS[b].0, g)
                })
                .collect();
            eq.sort_by(|a, b| a.0.total_cmp(&b.0));
            Degradation {
                gain_db: gain(&mut rng),
                eq,
            }
        }
    }
}

/// `vocal` with `d` applied through the engine's own EQ (as the research's EQ data was made).
pub fn apply(vocal: &Stereo, sample_rate: u32, d: &Degradation) -> Result<Stereo, String> {
    let mut p = MixParams::default();
    for stage in [Stage::Compressor, Stage::Reverb] {
        p.set(stage.bypass(), 1.0);
    }
    for (_, gain_id, q_id) in EQ_BANDS {
        p.set(gain_id, 0.0);
        p.set(q_id, 1.0);
    }
    for (hz, g) in &d.eq {
        if let Some((_, gain_id, _)) = EQ_BANDS.iter().find(|(f, _, _)| f == hz) {
            p.set(*gain_id, *g);
        }
    }
    p.set(ParamId::LevelGain, d.gain_db);
    render(vocal, sample_rate, &p, None)
}

/// `vocal` through the whole chain with `params` against `backing` (what the ride follows; no
/// tail: the song ends where it ends).
pub fn render(
    vocal: &Stereo,
    sample_rate: u32,
    params: &MixParams,
    backing: Option<&Stereo>,
) -> Result<Stereo, String> {
    let mut chain = VocalChain::new();
    chain.set_params_immediate(params);
    chain
        .prepare(sample_rate as f32)
        .map_err(|e| e.to_string())?;
    let mut out = vocal.clone();
    // the ride follows the backing as the plug-in's sidechain would carry it
    let side = |c: &[f32]| {
        let mut x = c.to_vec();
        x.resize(vocal.len(), 0.0);
        x
    };
    let sidechain = backing.map(|b| (side(&b.left), side(&b.right)));
    for (k, (l, r)) in out
        .left
        .chunks_mut(4096)
        .zip(out.right.chunks_mut(4096))
        .enumerate()
    {
        let at = k * 4096;
        let piece = sidechain
            .as_ref()
            .map(|(bl, br)| [&bl[at..at + l.len()], &br[at..at + l.len()]]);
        chain.process_stereo_with(l, r, piece);
    }
    Ok(out)
}
