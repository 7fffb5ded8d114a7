//! The de-esser (issue 16): on a sung line with synthetic sibilants (bursts of 5–9 kHz noise of
//! known level) the sibilants fall by the set range, the 4–8 kHz band between them does not move,
//! and with nothing over the threshold the de-esser changes no level at any frequency. Levels are
//! read with Goertzel's algorithm at chosen frequencies — independent of the engine's filters —
//! so the crossover's phase (it is an all-pass) does not count, only magnitudes.

use crate::common::*;
use engine::synth::{Rng, vocal_line};
use engine::{MixParams, ParamId};

const SR: f32 = 48_000.0;
/// Sibilants: 150 ms every second, from 0.4 s on.
const BURST_S: f32 = 0.15;

/// Band noise as a sum of 400 sines at random frequencies in `lo..hi` Hz with random phases
/// (their frequencies returned, to be read back exactly), `seconds` long, RMS `rms`.
fn band_noise(lo: f32, hi: f32, seconds: f32, rms: f32, seed: u64) -> (Vec<f32>, Vec<f32>) {
    let mut rng = Rng::new(seed);
    let n = (seconds * SR) as usize;
    let parts: Vec<(f32, f32)> = (0..400)
        .map(|_| {
            (
                lo + (hi - lo) * rng.uniform(),
                std::f32::consts::TAU * rng.uniform(),
            )
        })
        .collect();
    let a = rms * (2.0f32 / parts.len() as f32).sqrt();
    let x = (0..n)
        .map(|i| {
            let t = i as f32 / SR;
            parts
                .iter()
                .map(|(f, p)| a * (std::f32::consts::TAU * f * t + p).sin())
                .sum()
        })
        .collect();
    (x, parts.iter().map(|p| p.0).collect())
}

/// The line with a sibilant burst (raised-cosine edges of 10 ms) every second; the bursts' start
/// samples.
fn sung_with_sibilants(burst_rms: f32) -> (Vec<f32>, Vec<usize>, Vec<f32>) {
    let mut x = vocal_line(SR, 6.0, 0.3, 21);
    let (burst, freqs) = band_noise(5_000.0, 9_000.0, BURST_S, burst_rms, 4);
    let edge = (0.01 * SR) as usize;
    let starts: Vec<usize> = (0..5).map(|k| ((0.4 + k as f32) * SR) as usize).collect();
    for &s in &starts {
        for (i, b) in burst.iter().enumerate() {
            let w = if i < edge {
                0.5 - 0.5 * (std::f32::consts::PI * i as f32 / edge as f32).cos()
            } else if i >= burst.len() - edge {
                0.5 - 0.5 * (std::f32::consts::PI * (burst.len() - i) as f32 / edge as f32).cos()
            } else {
                1.0
            };
            x[s + i] += w * b;
        }
    }
    (x, starts, freqs)
}

/// Power at `freqs` over `x` (Goertzel, Hann-windowed), summed.
fn power_at(x: &[f32], freqs: &[f32]) -> f64 {
    let n = x.len();
    freqs
        .iter()
        .map(|&f| {
            let w = 2.0 * std::f64::consts::PI * f as f64 / SR as f64;
            let c = 2.0 * w.cos();
            let (mut s1, mut s2) = (0.0f64, 0.0f64);
            for (i, &v) in x.iter().enumerate() {
                let hann = 0.5 - 0.5 * (2.0 * std::f64::consts::PI * i as f64 / n as f64).cos();
                let s = v as f64 * hann + c * s1 - s2;
                s2 = s1;
                s1 = s;
            }
            s1 * s1 + s2 * s2 - c * s1 * s2
        })
        .sum()
}

/// The de-esser alone (it belongs to the EQ stage, which is in, flat).
fn de_esser(freq: f32, threshold: f32, range: f32) -> MixParams {
    only(
        &[ParamId::EqBypass],
        &[
            (ParamId::DeessOn, 1.0),
            (ParamId::DeessFreq, freq),
            (ParamId::DeessThreshold, threshold),
            (ParamId::DeessRange, range),
        ],
    )
}

fn db(a: f64, b: f64) -> f64 {
    10.0 * (a / b).log10()
}

#[test]
fn sibilants_fall_by_the_range_and_the_band_between_them_stays() {
    let (x, starts, freqs) = sung_with_sibilants(0.2);
    let off = render_mono(&only(&[], &[]), SR, &x, 256).0;
    assert_eq!(off, x, "everything bypassed passes the line untouched");
    let band: Vec<f32> = (0..200).map(|k| 4_000.0 + 20.0 * k as f32).collect();
    // the threshold 3 dB over the line's own upper band, and far more than the range under the
    // bursts' peaks
    let line = vocal_line(SR, 6.0, 0.3, 21);
    let line_peak = engine::dsp::de_esser::envelope_db(&line, SR, 4_000.0)
        .into_iter()
        .fold(f32::MIN, f32::max);
    let threshold = line_peak + 3.0;
    let burst_peak = engine::dsp::de_esser::envelope_db(&x, SR, 4_000.0)
        .into_iter()
        .fold(f32::MIN, f32::max);
    assert!(burst_peak > threshold + 14.0, "{burst_peak} vs {threshold}");
    for range in [6.0, 12.0] {
        let on = render_mono(&de_esser(4_000.0, threshold, range), SR, &x, 256).0;
        let mut between = 0;
        let (mut falls, mut moves) = (vec![], vec![]);
        for &s in &starts {
            // the burst's middle, past the detector's first period and the edges
            let (a, b) = (s + (0.03 * SR) as usize, s + (0.12 * SR) as usize);
            let fell = db(power_at(&on[a..b], &freqs), power_at(&x[a..b], &freqs));
            falls.push(fell);
            assert!(
                (fell + range as f64).abs() <= 1.0,
                "range {range} dB: the sibilant at {:.2} s fell by {:.2} dB",
                s as f32 / SR,
                -fell
            );
            // between the bursts: from 300 ms after one to the next
            let (a, b) = (s + (0.45 * SR) as usize, s + (0.95 * SR) as usize);
            let sung = power_at(&x[a..b], &band);
            if sung == 0.0 {
                continue; // a rest: nothing to move
            }
            between += 1;
            let moved = db(power_at(&on[a..b], &band), sung);
            moves.push(moved);
            assert!(
                moved.abs() < 0.5,
                "range {range} dB: 4–8 kHz between sibilants moved {moved:.2} dB at {:.2} s",
                a as f32 / SR
            );
        }
        assert!(
            between >= 3,
            "only {between} sung stretches between sibilants"
        );
        let show = |v: &[f64]| {
            v.iter()
                .map(|x| format!("{x:+.2}"))
                .collect::<Vec<_>>()
                .join(" ")
        };
        println!(
            "range {range} dB: sibilants {} dB; 4–8 kHz between them {} dB",
            show(&falls),
            show(&moves)
        );
    }
}

#[test]
fn under_the_threshold_no_frequency_changes_level() {
    let x = vocal_line(SR, 2.0, 0.3, 5);
    let on = render_mono(&de_esser(6_000.0, 0.0, 12.0), SR, &x, 256).0;
    let freqs: Vec<f32> = (1..=95).map(|k| 250.0 * k as f32).collect();
    for f in freqs {
        let moved = db(power_at(&on, &[f]), power_at(&x, &[f]));
        assert!(moved.abs() < 0.05, "{f} Hz moved {moved:.3} dB");
    }
}

#[test]
fn listening_plays_the_upper_band_alone() {
    let (x, _, freqs) = sung_with_sibilants(0.1);
    let mut p = de_esser(4_000.0, 0.0, 0.0);
    p.set(ParamId::DeessListen, 1.0);
    let heard = render_mono(&p, SR, &x, 256).0;
    let (a, b) = ((0.43 * SR) as usize, (0.52 * SR) as usize);
    // the sibilant passes whole; the sung line's fundamentals and formants are gone
    let kept = db(power_at(&heard[a..b], &freqs), power_at(&x[a..b], &freqs));
    assert!(kept.abs() < 0.5, "sibilant {kept:.2} dB");
    let low: Vec<f32> = (1..40).map(|k| 50.0 * k as f32).collect();
    let gone = db(power_at(&heard, &low), power_at(&x, &low));
    assert!(gone < -40.0, "below 2 kHz only {gone:.1} dB down");
}
