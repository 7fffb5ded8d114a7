//! The compressor against the textbook static curve (Giannoulis, Massberg & Reiss 2012, quadratic
//! knee) and one-pole attack/release reaching 63 % in the set time, measured on DC levels.

mod common;
use common::*;
use engine::ParamId;

/// Output level for input level `x` (dB), written out from the paper.
fn textbook(x: f64, t: f64, r: f64, w: f64) -> f64 {
    if 2.0 * (x - t) < -w {
        x
    } else if 2.0 * (x - t).abs() <= w && w > 0.0 {
        x + (1.0 / r - 1.0) * (x - t + w / 2.0).powi(2) / (2.0 * w)
    } else {
        t + (x - t) / r
    }
}

const SR: f32 = 48_000.0;

/// Renders `levels` (dB) as DC segments of `seconds` each; returns the gain (dB) measured at the
/// end of every segment.
fn settled_gains(set: &[(ParamId, f32)], levels: &[f64], seconds: f32) -> Vec<f64> {
    let p = only(&[ParamId::CompBypass], set);
    let seg = (seconds * SR) as usize;
    let input: Vec<f32> = levels
        .iter()
        .flat_map(|&db| std::iter::repeat_n(10f32.powf(db as f32 / 20.0), seg))
        .collect();
    let (out, right) = render_mono(&p, SR, &input, 256);
    assert_eq!(
        out, right,
        "a mono vocal must come out the same on both sides"
    );
    (0..levels.len())
        .map(|k| 20.0 * ((out[(k + 1) * seg - 1] / input[(k + 1) * seg - 1]) as f64).log10())
        .collect()
}

#[test]
fn static_curve_matches_the_formula_within_a_tenth_of_a_db() {
    let levels: Vec<f64> = (0..=20).map(|k| -60.0 + 3.0 * k as f64).collect();
    for t in [-40.0f32, -20.0, -6.0] {
        for r in [1.5f32, 4.0, 20.0] {
            for w in [0.0f32, 6.0, 24.0] {
                let set = [
                    (ParamId::CompThreshold, t),
                    (ParamId::CompRatio, r),
                    (ParamId::CompKnee, w),
                    (ParamId::CompAttack, 0.5),
                    (ParamId::CompRelease, 5.0),
                ];
                let gains = settled_gains(&set, &levels, 0.08);
                for (&x, g) in levels.iter().zip(gains) {
                    let want = textbook(x, t as f64, r as f64, w as f64) - x;
                    assert!(
                        (g - want).abs() < 0.1,
                        "T {t} R {r} W {w} at {x} dB: gain {g:.3} vs {want:.3}"
                    );
                }
            }
        }
    }
}

#[test]
fn make_up_gain_adds_after_the_curve() {
    let set = [
        (ParamId::CompThreshold, -20.0),
        (ParamId::CompRatio, 4.0),
        (ParamId::CompMakeup, 7.5),
    ];
    let g = settled_gains(&set, &[-30.0, 0.0], 0.5);
    assert!((g[0] - 7.5).abs() < 0.05, "{g:?}");
    assert!((g[1] - (-15.0 + 7.5)).abs() < 0.05, "{g:?}");
}

/// Time (s) after a level step until the gain reduction has covered 63.2 % of its change.
fn time_to_63(gr: &[f64], from: f64, to: f64) -> f32 {
    let mark = from + (to - from) * (1.0 - (-1.0f64).exp());
    let i = gr
        .iter()
        .position(|&g| if to < from { g <= mark } else { g >= mark })
        .expect("reaches the mark");
    i as f32 / SR
}

#[test]
fn attack_and_release_reach_63_percent_in_the_set_times() {
    for (attack_ms, release_ms) in [(1.0f32, 50.0f32), (30.0, 150.0), (100.0, 500.0)] {
        let set = [
            (ParamId::CompThreshold, -20.0),
            (ParamId::CompRatio, 4.0),
            (ParamId::CompAttack, attack_ms),
            (ParamId::CompRelease, release_ms),
        ];
        let p = only(&[ParamId::CompBypass], &set);
        let seg = (2.0 * SR) as usize;
        let (lo, hi) = (10f32.powf(-40.0 / 20.0), 1.0f32);
        let input: Vec<f32> = [lo, hi, lo]
            .iter()
            .flat_map(|&v| std::iter::repeat_n(v, seg))
            .collect();
        let (out, _) = render_mono(&p, SR, &input, 100);
        let gr: Vec<f64> = out
            .iter()
            .zip(&input)
            .map(|(o, i)| 20.0 * ((o / i) as f64).log10())
            .collect();
        // 0 dB into −20 dB threshold at 4:1 asks for −15 dB
        let attack = time_to_63(&gr[seg..2 * seg], 0.0, -15.0);
        let release = time_to_63(&gr[2 * seg..], -15.0, 0.0);
        let (a, r) = (attack * 1000.0, release * 1000.0);
        assert!(
            (a / attack_ms - 1.0).abs() < 0.05,
            "attack {a:.2} ms, set {attack_ms}"
        );
        assert!(
            (r / release_ms - 1.0).abs() < 0.05,
            "release {r:.2} ms, set {release_ms}"
        );
    }
}

#[test]
fn stereo_is_linked_to_the_louder_channel() {
    let p = only(
        &[ParamId::CompBypass],
        &[(ParamId::CompThreshold, -20.0), (ParamId::CompRatio, 4.0)],
    );
    let mut c = chain(&p, SR);
    let n = SR as usize;
    let mut l = vec![1.0f32; n]; // 0 dB: compressed by 15 dB
    let mut r = vec![0.01f32; n]; // −40 dB: below threshold on its own
    c.process_stereo(&mut l, &mut r);
    let gl = 20.0 * l[n - 1].log10();
    let gr = 20.0 * (r[n - 1] / 0.01).log10();
    assert!(
        (gl - -15.0).abs() < 0.05 && (gr - gl).abs() < 1e-3,
        "left {gl:.3} dB, right {gr:.3} dB"
    );
}

#[test]
fn the_meter_holds_the_most_reduction_since_it_was_last_read() {
    let p = only(
        &[ParamId::CompBypass],
        &[
            (ParamId::CompThreshold, -20.0),
            (ParamId::CompRatio, 4.0),
            (ParamId::CompAttack, 1.0),
            (ParamId::CompRelease, 50.0),
        ],
    );
    let mut c = chain(&p, SR);
    let block = |level: f32| (vec![level; 4800], vec![0.0f32; 4800]);
    let (mut l, mut r) = block(1.0); // 0 dB: −15 dB of reduction
    c.process_mono(&mut l, &mut r);
    let (mut l, mut r) = block(0.001); // quiet: the reduction releases
    for _ in 0..20 {
        c.process_mono(&mut l, &mut r);
    }
    let most = c.take_gain_reduction_meter_db();
    assert!((most - -15.0).abs() < 0.05, "{most}");
    assert_eq!(c.gain_reduction_db(), 0.0, "released and settled");
    assert_eq!(
        c.take_gain_reduction_meter_db(),
        0.0,
        "read again: nothing since"
    );
}
