//! The FDN reverb: decay times (Schroeder T20), band decay rates, stereo decorrelation, tail level
//! against FdnReverb's measured table, and stability over an hour of noise at the extremes.

mod common;
use common::*;
use engine::dsp::fdn_reverb::iem_tail_energy_db;
use engine::{MixParams, ParamId};

fn reverb(set: &[(ParamId, f32)]) -> MixParams {
    let mut base = vec![
        (ParamId::ReverbDryWet, 1.0),
        (ParamId::ReverbFadeIn, 0.0),
        (ParamId::ReverbLowGain, 0.0),
        (ParamId::ReverbHighGain, 0.0),
    ];
    base.extend_from_slice(set);
    only(&[ParamId::ReverbBypass], &base)
}

/// Impulse response of the tail alone (the direct sound at sample 0 removed).
fn tail(p: &MixParams, sr: f32, seconds: f32) -> (Vec<f32>, Vec<f32>) {
    let (mut l, mut r) = render_mono(p, sr, &impulse((seconds * sr) as usize), 512);
    assert_eq!(
        (l[0], r[0]),
        (1.0, 1.0),
        "the direct sound passes at full level"
    );
    l[0] = 0.0;
    r[0] = 0.0;
    (l, r)
}

#[test]
fn t20_is_within_10_percent_of_the_set_time() {
    for sr in [44_100.0f32, 48_000.0, 96_000.0] {
        for lines in [16.0, 64.0] {
            for rt in [0.3f32, 0.7, 1.5, 3.0, 6.0, 9.0] {
                let p = reverb(&[(ParamId::ReverbTime, rt), (ParamId::ReverbFdnSize, lines)]);
                let (l, r) = tail(&p, sr, 0.6 * rt + 0.3);
                for (side, h) in [("left", &l), ("right", &r)] {
                    let t = t20(h, sr);
                    assert!(
                        (t / rt - 1.0).abs() < 0.10,
                        "{sr} Hz, {lines} lines, RT {rt}: {side} T20 {t:.3}"
                    );
                }
            }
        }
    }
}

/// Decay rate (dB/s) of the tail in the octave band around `centre`.
fn band_decay(h: &[f32], centre: f64, sr: f32) -> f32 {
    decay_rate_from_peak(&octave_band(h, centre, sr as f64), sr)
}

#[test]
fn band_decay_follows_the_low_and_high_gains() {
    let sr = 48_000.0f32;
    let rt = 2.0f32; // 30 dB/s everywhere before the shelves
    let base = 60.0 / rt;
    // (low gain, high gain): one shelf at a time, each measured three octaves inside it, with a
    // band three octaves outside it as the unshelved reference.
    let cases = [
        (-20.0f32, 0.0f32),
        (-60.0, 0.0),
        (5.0, 0.0),
        (0.0, -30.0),
        (0.0, -60.0),
        (0.0, 3.0),
    ];
    for (low_gain, high_gain) in cases {
        let p = reverb(&[
            (ParamId::ReverbTime, rt),
            (ParamId::ReverbLowCutoff, 1000.0),
            (ParamId::ReverbLowQ, 0.7),
            (ParamId::ReverbLowGain, low_gain),
            (ParamId::ReverbHighCutoff, 2000.0),
            (ParamId::ReverbHighQ, 0.7),
            (ParamId::ReverbHighGain, high_gain),
            (ParamId::ReverbFdnSize, 32.0),
        ]);
        let (h, _) = tail(&p, sr, 2.5);
        let bands = if low_gain != 0.0 {
            [(125.0, low_gain), (8000.0, 0.0)]
        } else {
            [(16_000.0, high_gain), (250.0, 0.0)]
        };
        for (centre, extra) in bands {
            let want = base - extra;
            let got = band_decay(&h, centre, sr);
            assert!(
                (got / want - 1.0).abs() < 0.15,
                "low {low_gain} dB/s, high {high_gain} dB/s: {centre} Hz band decays {got:.1} dB/s, want {want:.1}"
            );
        }
    }
}

#[test]
fn left_and_right_are_decorrelated() {
    for lines in [16.0, 32.0, 64.0] {
        for rs in [1.0, 14.54, 30.0] {
            let p = reverb(&[
                (ParamId::ReverbFdnSize, lines),
                (ParamId::ReverbRoomSize, rs),
            ]);
            let (l, r) = tail(&p, 44_100.0, 2.0);
            let c = correlation(&l, &r);
            assert!(
                c.abs() < 0.3,
                "{lines} lines, room {rs}: correlation {c:.3}"
            );
        }
    }
}

#[test]
fn tail_level_matches_fdnreverb_at_64_lines_whatever_our_size() {
    for lines in [16.0f32, 32.0, 64.0] {
        for rs in [1.0f32, 5.0, 14.54, 30.0] {
            for rt in [0.3f32, 1.78, 8.0] {
                let p = reverb(&[
                    (ParamId::ReverbFdnSize, lines),
                    (ParamId::ReverbRoomSize, rs),
                    (ParamId::ReverbTime, rt),
                ]);
                let (l, r) = tail(&p, 48_000.0, 1.2 * rt + 0.5);
                let ours = 10.0 * (0.5 * (energy(&l) + energy(&r))).log10();
                let want = iem_tail_energy_db(rs, rt) as f64;
                assert!(
                    (ours - want).abs() < 1.0,
                    "{lines} lines, room {rs}, RT {rt}: {ours:.2} dB vs FdnReverb {want:.2} dB"
                );
            }
        }
    }
}

#[test]
fn tail_level_falls_as_the_room_grows_and_scales_with_dry_wet() {
    let level = |rs: f32, dw: f32| {
        let p = reverb(&[(ParamId::ReverbRoomSize, rs), (ParamId::ReverbDryWet, dw)]);
        let (l, _) = tail(&p, 44_100.0, 3.0);
        10.0 * energy(&l).log10()
    };
    assert!(level(2.0, 1.0) > level(10.0, 1.0) + 3.0);
    assert!(level(10.0, 1.0) > level(30.0, 1.0) + 1.0);
    // dry/wet scales the tail's amplitude linearly: 0.115 is 18.8 dB down
    let drop = level(14.54, 1.0) - level(14.54, 0.115);
    assert!((drop - 18.79).abs() < 0.05, "{drop}");
}

#[test]
fn fade_in_rises_like_fdnreverb() {
    // FdnReverb's fade-in subtracts a faster-decaying copy of the tail, which then rises as
    // (1 − e^(−γt)) with γ = ln(1000)·(1/fade − 1/RT). Measured on FdnReverb itself (RT 3 s): with a
    // 2 s fade −8 dB at 0.4 s and −3 dB at 1 s; with 0.68 s, −4 dB over 0.05–0.15 s.
    let sr = 48_000.0f32;
    let rt = 3.0f32;
    let energy_at = |fade: f32, t: f32, half: f32| {
        let p = reverb(&[(ParamId::ReverbTime, rt), (ParamId::ReverbFadeIn, fade)]);
        let (l, r) = tail(&p, sr, 1.5);
        let (a, b) = (((t - half) * sr) as usize, ((t + half) * sr) as usize);
        energy(&l[a..b]) + energy(&r[a..b])
    };
    for (fade, t, half) in [
        (2.0f32, 0.4f32, 0.05f32),
        (2.0, 1.0, 0.05),
        (0.68, 0.1, 0.02),
        (0.68, 0.3, 0.02),
    ] {
        let gamma = 1000f64.ln() * (1.0 / fade as f64 - 1.0 / rt as f64);
        let want = 20.0 * (1.0 - (-gamma * t as f64).exp()).log10();
        let got = 10.0 * (energy_at(fade, t, half) / energy_at(0.0, t, half)).log10();
        assert!(
            (got - want).abs() < 1.0,
            "fade {fade} s at {t} s: {got:.2} dB, want {want:.2}"
        );
    }
}

#[test]
fn an_hour_of_noise_at_the_extremes_stays_finite_and_below_6_dbfs() {
    // The longest, brightest, most resonant reverb there is: the two boosting shelves overlap
    // (low shelf up to 2 kHz, high shelf from 1 kHz) on top of a 9 s tail in the smallest room.
    // Without the stability guard this grows without bound within seconds.
    let sr = 44_100.0f32;
    let p = reverb(&[
        (ParamId::ReverbTime, 9.0),
        (ParamId::ReverbRoomSize, 1.0),
        (ParamId::ReverbLowCutoff, 2000.0),
        (ParamId::ReverbLowQ, 0.9),
        (ParamId::ReverbLowGain, 6.0),
        (ParamId::ReverbHighCutoff, 1000.0),
        (ParamId::ReverbHighQ, 0.9),
        (ParamId::ReverbHighGain, 4.0),
        (ParamId::ReverbFadeIn, 9.0),
        (ParamId::ReverbFdnSize, 64.0),
    ]);
    let mut c = chain(&p, sr);
    let block = 4096;
    let mut rng = engine::synth::Rng::new(3);
    let (mut l, mut r) = (vec![0.0f32; block], vec![0.0f32; block]);
    let mut loudest = 0.0f32;
    let blocks = (3600.0 * sr) as usize / block;
    for _ in 0..blocks {
        // white noise at −30 dBFS RMS (uniform, ±0.055)
        l.iter_mut().for_each(|v| *v = 0.0548 * rng.bipolar());
        c.process_mono(&mut l, &mut r);
        assert!(
            l.iter().chain(&r).all(|v| v.is_finite()),
            "non-finite output"
        );
        loudest = loudest.max(peak(&l)).max(peak(&r));
    }
    let dbfs = 20.0 * loudest.log10();
    eprintln!("an hour of noise at the extremes peaked at {dbfs:.1} dBFS");
    assert!(dbfs < 6.0, "peaked at {dbfs:.1} dBFS");
}
