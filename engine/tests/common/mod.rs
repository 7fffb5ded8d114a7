//! Measurement helpers for the DSP tests. Everything here is written from the textbook, not from
//! the engine, so a test compares the engine against an independent reference.
#![allow(dead_code)]

#[allow(unused_imports)] // each test binary uses its own part of the helpers
pub use automix_tests::{energy, response_db, third_octaves};
use engine::{MixParams, ParamId, VocalChain};

/// Parameters with every stage bypassed except those named; the others at defaults.
pub fn only(stages: &[ParamId], set: &[(ParamId, f32)]) -> MixParams {
    let mut p = MixParams::default();
    for b in [
        ParamId::EqBypass,
        ParamId::CompBypass,
        ParamId::ReverbBypass,
    ] {
        if !stages.contains(&b) {
            p.set(b, 1.0);
        }
    }
    for &(id, v) in set {
        p.set(id, v);
    }
    p
}

pub fn chain(p: &MixParams, sr: f32) -> VocalChain {
    let mut c = VocalChain::new();
    c.set_params_immediate(p);
    c.prepare(sr).expect("supported rate");
    c
}

/// Renders a mono input in blocks of `block`; returns (left, right).
pub fn render_mono(p: &MixParams, sr: f32, input: &[f32], block: usize) -> (Vec<f32>, Vec<f32>) {
    let mut c = chain(p, sr);
    let mut l = input.to_vec();
    let mut r = vec![0.0; input.len()];
    for (a, b) in l.chunks_mut(block).zip(r.chunks_mut(block)) {
        c.process_mono(a, b);
    }
    (l, r)
}

pub fn impulse(n: usize) -> Vec<f32> {
    let mut x = vec![0.0; n];
    x[0] = 1.0;
    x
}

/// Magnitude (dB) of the Audio-EQ-Cookbook peaking filter, straight from the cookbook in f64.
pub fn rbj_peak_db(f0: f64, q: f64, gain_db: f64, f: f64, sr: f64) -> f64 {
    let a = 10f64.powf(gain_db / 40.0);
    let w0 = 2.0 * std::f64::consts::PI * f0 / sr;
    let alpha = w0.sin() / (2.0 * q);
    let b = [1.0 + alpha * a, -2.0 * w0.cos(), 1.0 - alpha * a];
    let a_ = [1.0 + alpha / a, -2.0 * w0.cos(), 1.0 - alpha / a];
    biquad_db(b, a_, f, sr)
}

pub fn biquad_db(b: [f64; 3], a: [f64; 3], f: f64, sr: f64) -> f64 {
    let w = 2.0 * std::f64::consts::PI * f / sr;
    let z1 = (w.cos(), -w.sin());
    let z2 = ((2.0 * w).cos(), -(2.0 * w).sin());
    let num = (b[0] + b[1] * z1.0 + b[2] * z2.0, b[1] * z1.1 + b[2] * z2.1);
    let den = (a[0] + a[1] * z1.0 + a[2] * z2.0, a[1] * z1.1 + a[2] * z2.1);
    10.0 * ((num.0 * num.0 + num.1 * num.1) / (den.0 * den.0 + den.1 * den.1)).log10()
}

/// Schroeder energy decay: the time (s) the backward-integrated energy takes from −5 to −25 dB,
/// times three (T20).
pub fn t20(h: &[f32], sr: f32) -> f32 {
    let mut edc = vec![0.0f64; h.len() + 1];
    for i in (0..h.len()).rev() {
        edc[i] = edc[i + 1] + (h[i] as f64).powi(2);
    }
    let e0 = edc[0];
    let at = |db: f64| {
        edc.iter()
            .position(|&e| 10.0 * (e / e0).log10() <= db)
            .expect("decays far enough") as f32
            / sr
    };
    3.0 * (at(-25.0) - at(-5.0))
}

/// Runs `x` through cookbook sections (b, a) one after another, in f64.
fn cascade(x: &[f32], sections: &[([f64; 3], [f64; 3])]) -> Vec<f32> {
    let mut y: Vec<f64> = x.iter().map(|&v| v as f64).collect();
    for (b, a) in sections {
        let (mut x1, mut x2, mut y1, mut y2) = (0.0, 0.0, 0.0, 0.0);
        for v in y.iter_mut() {
            let x0 = *v;
            let out = (b[0] * x0 + b[1] * x1 + b[2] * x2 - a[1] * y1 - a[2] * y2) / a[0];
            x2 = x1;
            x1 = x0;
            y2 = y1;
            y1 = out;
            *v = out;
        }
    }
    y.into_iter().map(|v| v as f32).collect()
}

/// Octave band-pass: four cascaded cookbook band-pass sections (0 dB peak), steep enough that a
/// band decaying 60 dB/s faster than its neighbours is not masked by their leakage.
pub fn octave_band(x: &[f32], centre: f64, sr: f64) -> Vec<f32> {
    let w0 = 2.0 * std::f64::consts::PI * centre / sr;
    let alpha = w0.sin() / (2.0 * 2f64.sqrt());
    let section = (
        [alpha, 0.0, -alpha],
        [1.0 + alpha, -2.0 * w0.cos(), 1.0 - alpha],
    );
    cascade(x, &[section; 4])
}

/// Decay rate (dB/s) of a band-limited response: a least-squares line through its Schroeder
/// decay curve from −5 to −45 dB, counted from the peak of its 20 ms energy envelope (a narrow
/// band builds up before it decays, and its first few echoes fluctuate too much for a T20).
pub fn decay_rate_from_peak(h: &[f32], sr: f32) -> f32 {
    let w = (0.02 * sr) as usize;
    let envelope: Vec<f64> = h.chunks(w).map(energy).collect();
    let top = envelope
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map(|(i, _)| i)
        .unwrap_or(0);
    let h = &h[top * w..];
    let mut edc = vec![0.0f64; h.len() + 1];
    for i in (0..h.len()).rev() {
        edc[i] = edc[i + 1] + (h[i] as f64).powi(2);
    }
    let points: Vec<(f64, f64)> = edc
        .iter()
        .enumerate()
        .map(|(i, &e)| (i as f64 / sr as f64, 10.0 * (e / edc[0]).log10()))
        .filter(|&(_, db)| (-45.0..=-5.0).contains(&db))
        .collect();
    let n = points.len() as f64;
    let (mt, md) = (
        points.iter().map(|p| p.0).sum::<f64>() / n,
        points.iter().map(|p| p.1).sum::<f64>() / n,
    );
    let cov: f64 = points.iter().map(|p| (p.0 - mt) * (p.1 - md)).sum();
    let var: f64 = points.iter().map(|p| (p.0 - mt).powi(2)).sum();
    -(cov / var) as f32
}

/// 4th-order Butterworth high-pass (two cookbook sections, Q 0.541 and 1.307).
pub fn butterworth_high_pass(x: &[f32], fc: f64, sr: f64) -> Vec<f32> {
    let w0 = 2.0 * std::f64::consts::PI * fc / sr;
    let c = w0.cos();
    let section = |q: f64| {
        let alpha = w0.sin() / (2.0 * q);
        (
            [(1.0 + c) / 2.0, -(1.0 + c), (1.0 + c) / 2.0],
            [1.0 + alpha, -2.0 * c, 1.0 - alpha],
        )
    };
    cascade(x, &[section(0.541_196_1), section(1.306_563)])
}

pub fn correlation(a: &[f32], b: &[f32]) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| *x as f64 * *y as f64).sum();
    dot / (energy(a) * energy(b)).sqrt()
}

pub fn max_step(x: &[f32]) -> f32 {
    x.windows(2)
        .map(|w| (w[1] - w[0]).abs())
        .fold(0.0, f32::max)
}

pub fn peak(x: &[f32]) -> f32 {
    x.iter().fold(0.0f32, |m, v| m.max(v.abs()))
}
