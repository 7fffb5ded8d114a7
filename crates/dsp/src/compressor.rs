//! Feed-forward compressor with OmniCompressor's behaviour: a detector on the instantaneous peak,
//! the exact static curve with a quadratic soft knee, and attack/release that reach 63 % of a
//! change in the set time. Stereo-linked: both channels get the gain the louder one asks for
//! (OmniCompressor compresses only its left channel when fed stereo; that is not copied).

use super::smoother::{SMOOTH_SECONDS, Smoothed};
use crate::params::{MixParams, ParamId};

use super::fast_math;

use super::processor::CONTROL;
use super::processor::{Block, Change, Processor};

/// dB per octave of amplitude (20 log10 2).
const DB_PER_OCTAVE: f32 = 6.020_6;
const OCTAVES_PER_DB: f32 = 1.0 / DB_PER_OCTAVE;

/// The static curve: output level for input level `x_db` (all in dB).
pub fn static_curve(x_db: f32, threshold: f32, ratio: f32, knee: f32) -> f32 {
    let over = x_db - threshold;
    if knee > 0.0 && over.abs() <= knee * 0.5 {
        let k = over + knee * 0.5;
        x_db + (1.0 / ratio - 1.0) * k * k / (2.0 * knee)
    } else if over > 0.0 {
        threshold + over / ratio
    } else {
        x_db
    }
}

#[derive(Clone, Debug)]
pub struct Compressor {
    sample_rate: f32,
    threshold: Smoothed,
    ratio: Smoothed,
    knee: Smoothed,
    attack_ms: Smoothed,
    release_ms: Smoothed,
    makeup_db: Smoothed,
    /// Smoothed gain reduction in dB (≤ 0).
    gr_db: f32,
    /// Most reduction since the meter was last read.
    meter_db: f32,
    dirty: bool,
    // derived per chunk
    alpha_attack: f32,
    alpha_release: f32,
    curve: Curve,
}

fn one_pole(ms: f32, sample_rate: f32) -> f32 {
    let samples = ms * 0.001 * sample_rate;
    if samples < 1e-3 {
        0.0
    } else {
        (-1.0 / samples).exp()
    }
}

impl Processor for Compressor {
    fn prepare(&mut self, sample_rate: f32) {
        self.sample_rate = sample_rate;
        for (s, _) in self.smoothers() {
            s.set_time(SMOOTH_SECONDS, sample_rate);
        }
        self.dirty = true;
        self.reset();
    }

    fn reset(&mut self) {
        self.gr_db = 0.0;
        self.meter_db = 0.0;
    }

    fn set_params(&mut self, p: &MixParams, change: Change) {
        let mut changed = false;
        for (s, id) in self.smoothers() {
            changed |= s.set(p.get(id), change);
        }
        self.dirty |= changed;
    }

    /// `right` is left alone for a mono block.
    fn process(&mut self, block: Block<'_>) {
        let stereo = block.is_stereo();
        let Block {
            left: l,
            right: r,
            tick,
            ..
        } = block;
        if tick {
            self.control();
        }
        let mut makeup = [0.0f32; CONTROL];
        for m in makeup.iter_mut().take(l.len()) {
            *m = self.makeup_db.tick();
        }
        let curve = self.curve;
        #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
        if super::cpu::avx2_fma() {
            // SAFETY: the CPU has the features the function is compiled for.
            unsafe { self.run_avx2(&curve, &makeup, l, r, stereo) };
            return;
        }
        self.run(&curve, &makeup, l, r, stereo);
    }
}

impl Compressor {
    pub fn new() -> Self {
        let d = MixParams::default();
        Compressor {
            sample_rate: 48_000.0,
            threshold: Smoothed::linear(d.get(ParamId::CompThreshold)),
            ratio: Smoothed::logarithmic(d.get(ParamId::CompRatio)),
            knee: Smoothed::linear(d.get(ParamId::CompKnee)),
            attack_ms: Smoothed::logarithmic(d.get(ParamId::CompAttack)),
            release_ms: Smoothed::logarithmic(d.get(ParamId::CompRelease)),
            makeup_db: Smoothed::linear(d.get(ParamId::CompMakeup)),
            gr_db: 0.0,
            meter_db: 0.0,
            dirty: true,
            alpha_attack: 0.0,
            alpha_release: 0.0,
            curve: Curve::new(0.0, 1.0, 0.0),
        }
    }

    fn smoothers(&mut self) -> [(&mut Smoothed, ParamId); 6] {
        [
            (&mut self.threshold, ParamId::CompThreshold),
            (&mut self.ratio, ParamId::CompRatio),
            (&mut self.knee, ParamId::CompKnee),
            (&mut self.attack_ms, ParamId::CompAttack),
            (&mut self.release_ms, ParamId::CompRelease),
            (&mut self.makeup_db, ParamId::CompMakeup),
        ]
    }

    pub fn current(&self, id: ParamId) -> Option<f32> {
        Some(match id {
            ParamId::CompThreshold => self.threshold.value(),
            ParamId::CompRatio => self.ratio.value(),
            ParamId::CompKnee => self.knee.value(),
            ParamId::CompAttack => self.attack_ms.value(),
            ParamId::CompRelease => self.release_ms.value(),
            ParamId::CompMakeup => self.makeup_db.value(),
            _ => return None,
        })
    }

    /// Largest gain reduction (dB, ≤ 0) since the last call.
    pub fn take_meter_db(&mut self) -> f32 {
        std::mem::replace(&mut self.meter_db, self.gr_db)
    }

    /// The gain reduction now (dB, ≤ 0).
    pub fn gain_reduction_db(&self) -> f32 {
        self.gr_db
    }

    /// Follows gliding values: called once per control tick.
    fn control(&mut self) {
        // settle exactly (on the control grid, whatever the host's blocks), so an idle
        // compressor costs nothing and reports no reduction
        if self.gr_db > -1e-6 {
            self.gr_db = 0.0;
        }
        let curve_moving =
            self.threshold.is_moving() || self.ratio.is_moving() || self.knee.is_moving();
        let time_moving = self.attack_ms.is_moving() || self.release_ms.is_moving();
        if curve_moving || time_moving || self.dirty {
            self.alpha_attack = one_pole(self.attack_ms.value(), self.sample_rate);
            self.alpha_release = one_pole(self.release_ms.value(), self.sample_rate);
            self.curve = Curve::new(
                self.threshold.value(),
                self.ratio.value(),
                self.knee.value(),
            );
            self.dirty = false;
        }
        for s in [
            &mut self.threshold,
            &mut self.ratio,
            &mut self.knee,
            &mut self.attack_ms,
            &mut self.release_ms,
        ] {
            s.advance(CONTROL as u32);
        }
    }

    #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
    #[target_feature(enable = "avx2,fma")]
    fn run_avx2(
        &mut self,
        curve: &Curve,
        makeup: &[f32; CONTROL],
        l: &mut [f32],
        r: &mut [f32],
        stereo: bool,
    ) {
        self.run(curve, makeup, l, r, stereo);
    }

    /// Three passes: the wanted gain change of every sample (independent, vectorises), the
    /// attack/release recurrence (serial, a few operations), the gains applied (vectorises).
    #[inline(always)]
    fn run(
        &mut self,
        curve: &Curve,
        makeup: &[f32; CONTROL],
        l: &mut [f32],
        r: &mut [f32],
        stereo: bool,
    ) {
        let n = l.len();
        let mut gain = [0.0f32; CONTROL];
        // Settled and below the curve's knee for the whole period: every gain is exactly 0 dB,
        // so neither the curve nor the recurrence needs to run (quiet passages cost little).
        let peak = if stereo {
            l.iter()
                .zip(r.iter())
                .fold(0.0f32, |m, (a, b)| m.max(a.abs()).max(b.abs()))
        } else {
            l.iter().fold(0.0f32, |m, a| m.max(a.abs()))
        };
        if self.gr_db != 0.0 || curve.gain_db(peak) != 0.0 {
            if stereo {
                for ((g, a), b) in gain.iter_mut().zip(l.iter()).zip(r.iter()) {
                    *g = curve.gain_db(a.abs().max(b.abs()));
                }
            } else {
                for (g, a) in gain.iter_mut().zip(l.iter()) {
                    *g = curve.gain_db(a.abs());
                }
            }
            let (aa, ar) = (self.alpha_attack, self.alpha_release);
            // The recurrence is the one serial part: keep it to a compare, a select and a
            // multiply-add per sample. The meter and the settling to exactly 0 dB come after.
            let mut gr = self.gr_db;
            for g in gain.iter_mut().take(n) {
                let target = *g;
                let a = if target < gr { aa } else { ar };
                gr = target + a * (gr - target);
                *g = gr;
            }
            self.gr_db = gr;
        }
        self.meter_db = gain[..n].iter().fold(self.meter_db, |m, &g| m.min(g));
        if gain[..n].iter().chain(&makeup[..n]).all(|&g| g == 0.0) {
            return; // unity gain throughout: nothing to apply
        }
        for ((g, m), x) in gain.iter_mut().zip(makeup).zip(l.iter_mut()) {
            *g = fast_math::exp2((*g + m) * OCTAVES_PER_DB);
            *x *= *g;
        }
        if stereo {
            for (g, x) in gain.iter().zip(r.iter_mut()) {
                *x *= *g;
            }
        }
    }
}

/// The static curve's constants for one control period, evaluated without branches.
#[derive(Clone, Copy, Debug)]
struct Curve {
    threshold: f32,
    slope: f32,
    half_knee: f32,
    knee_scale: f32,
}

impl Curve {
    fn new(threshold: f32, ratio: f32, knee: f32) -> Self {
        let slope = 1.0 / ratio - 1.0;
        Curve {
            threshold,
            slope,
            half_knee: knee * 0.5,
            knee_scale: if knee > 0.0 {
                slope / (2.0 * knee)
            } else {
                0.0
            },
        }
    }

    /// Gain change (dB, ≤ 0) the static curve asks for at peak level `peak`.
    #[inline(always)]
    fn gain_db(&self, peak: f32) -> f32 {
        // log2 of 0 comes out near −127 octaves: far below any threshold, as it should be.
        let x_db = fast_math::log2(peak.max(1e-30)) * DB_PER_OCTAVE;
        let over = x_db - self.threshold;
        let hard = (over * self.slope).min(0.0);
        let k = over + self.half_knee;
        let soft = self.knee_scale * k * k;
        if over.abs() <= self.half_knee {
            soft
        } else {
            hard
        }
    }
}

impl Default for Compressor {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::static_curve;

    #[test]
    fn hard_knee_curve() {
        assert_eq!(static_curve(-30.0, -20.0, 4.0, 0.0), -30.0);
        assert!((static_curve(-10.0, -20.0, 4.0, 0.0) - -17.5).abs() < 1e-5);
    }

    #[test]
    fn soft_knee_is_continuous_at_its_edges() {
        let (t, r, w) = (-20.0, 5.0, 10.0);
        for edge in [t - w / 2.0, t + w / 2.0] {
            let below = static_curve(edge - 1e-3, t, r, w);
            let above = static_curve(edge + 1e-3, t, r, w);
            assert!((below - above).abs() < 1e-2, "{below} vs {above}");
        }
    }
}
