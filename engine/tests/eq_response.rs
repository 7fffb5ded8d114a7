//! The EQ against the Audio-EQ-Cookbook formula, evaluated independently in f64.

mod common;
use common::*;
use engine::ParamId;
use engine::params::EQ_BANDS;

#[test]
fn every_band_matches_the_cookbook_at_plus_and_minus_12_db() {
    // the ends of the range the chain accepts, too: at 768 kHz the 63 Hz band's poles sit
    // 5e-4 from z = 1
    for sr in [8_000.0f32, 44_100.0, 48_000.0, 96_000.0, 768_000.0] {
        for &(f0, gain_id, _) in EQ_BANDS.iter() {
            if f0 > 0.45 * sr {
                continue;
            }
            for g in [-12.0f32, 12.0] {
                let p = only(&[ParamId::EqBypass], &[(gain_id, g)]);
                // long enough for the 63 Hz band to ring out below −200 dB
                let (h, _) = render_mono(&p, sr, &impulse(sr as usize), 512);
                let mut worst = 0.0f64;
                for f in third_octaves(0.45 * sr as f64) {
                    let want = rbj_peak_db(f0 as f64, 1.0, g as f64, f, sr as f64);
                    let got = response_db(&h, f, sr as f64);
                    worst = worst.max((got - want).abs());
                }
                assert!(
                    worst < 0.05,
                    "{f0} Hz at {g:+} dB, {sr} Hz: off by {worst:.4} dB"
                );
            }
        }
    }
}

#[test]
fn q_and_combined_bands_match_the_cookbook() {
    let sr = 48_000.0f32;
    let settings = [
        (ParamId::EqGain250, -9.0, ParamId::EqQ250, 0.3),
        (ParamId::EqGain2k, 6.0, ParamId::EqQ2k, 8.0),
    ];
    let mut set = vec![];
    for (g, gv, q, qv) in settings {
        set.push((g, gv));
        set.push((q, qv));
    }
    let p = only(&[ParamId::EqBypass], &set);
    let (h, _) = render_mono(&p, sr, &impulse(sr as usize), 64);
    for f in third_octaves(20_000.0) {
        let want = rbj_peak_db(250.0, 0.3, -9.0, f, sr as f64)
            + rbj_peak_db(2000.0, 8.0, 6.0, f, sr as f64);
        let got = response_db(&h, f, sr as f64);
        assert!((got - want).abs() < 0.05, "{f} Hz: {got:.3} vs {want:.3}");
    }
}

#[test]
fn high_pass_is_a_12_db_per_octave_butterworth() {
    let sr = 44_100.0f64;
    let fc = 120.0;
    let p = only(
        &[ParamId::EqBypass],
        &[
            (ParamId::EqHighpassOn, 1.0),
            (ParamId::EqHighpassFreq, fc as f32),
        ],
    );
    let (h, _) = render_mono(&p, sr as f32, &impulse(sr as usize), 512);
    // |H|² of a 2nd-order Butterworth high-pass (bilinear, prewarped) is 1 / (1 + (Ωc/Ω)^4)
    let warp = |f: f64| (std::f64::consts::PI * f / sr).tan();
    for f in third_octaves(20_000.0) {
        let want = -10.0 * (1.0 + (warp(fc) / warp(f)).powi(4)).log10();
        let got = response_db(&h, f, sr);
        assert!((got - want).abs() < 0.05, "{f} Hz: {got:.3} vs {want:.3}");
    }
}

#[test]
fn bands_above_045_fs_are_bypassed() {
    // 16 kHz at 32 kHz sampling sits above 0.45 fs: the band must do nothing, not misbehave.
    let sr = 32_000.0f32;
    let p = only(&[ParamId::EqBypass], &[(ParamId::EqGain16k, 12.0)]);
    let (h, _) = render_mono(&p, sr, &impulse(4096), 64);
    assert_eq!(h[0], 1.0);
    assert!(h[1..].iter().all(|&v| v == 0.0));
}
