//! The shipped separator and VAD: they load on tract and answer in [0, 1]; separation brings a
//! known vocal out of a mixture better than the mixture itself is; the outputs sum to the input
//! at every rate and channel count; bad input gives silence or a message, never NaN.

use automix_tests::{read_wav, shared_audio};
use engine::separation::frames::{BINS, PATCH, VAD_BINS};
use engine::separation::{SeparationError, SeparationModels, separate, vocal_mask};

fn models() -> &'static SeparationModels {
    let m = SeparationModels::shared();
    assert!(m.warnings.is_empty(), "{:?}", m.warnings);
    m
}

fn sdr(truth: &[f32], estimate: &[f32]) -> f64 {
    let (mut s, mut e) = (0.0f64, 0.0f64);
    for (t, x) in truth.iter().zip(estimate) {
        s += (*t as f64).powi(2);
        e += (*t as f64 - *x as f64).powi(2);
    }
    10.0 * (s / e.max(1e-20)).log10()
}

fn quiet(_: &str, _: f32) {}

#[test]
fn the_built_in_models_load_and_give_masks_in_zero_to_one() {
    let m = models();
    let sep = m.separator.as_ref().expect("a separator");
    // a patch of noise-like magnitudes, activity on and off
    let mut x = vec![0.0f32; 2 * 2 * BINS * PATCH];
    for (i, v) in x.iter_mut().enumerate() {
        *v = ((i as f32 * 0.618).fract() * 0.05).abs();
    }
    for (i, v) in x[BINS * PATCH..2 * BINS * PATCH].iter_mut().enumerate() {
        *v = ((i % PATCH) > 64) as i32 as f32;
    }
    let masks = sep.run(2, x).unwrap();
    assert_eq!(masks.len(), 2 * BINS * PATCH);
    assert!(masks.iter().all(|v| (0.0..=1.0).contains(v)));
    // not a constant: the model looks at its input
    let (lo, hi) = masks
        .iter()
        .fold((1.0f32, 0.0f32), |(a, b), &v| (a.min(v), b.max(v)));
    assert!(hi - lo > 0.1, "mask range {lo}..{hi}");
    let vad = m.vad.as_ref().expect("a VAD");
    let p = vad.run(100, vec![1e-4; VAD_BINS * 100]).unwrap();
    assert_eq!(p.len(), 100);
    assert!(p.iter().all(|v| (0.0..=1.0).contains(v)));
}

/// vocadito's solo singing over the MUSDB preview's drums, bass and other: a vocal and a backing
/// never performed together, mixed at 0 dB.
#[test]
fn separation_brings_a_known_vocal_out_of_a_mixture_and_the_outputs_sum_to_it() {
    let (Some(vocal), Some(drums)) = (
        shared_audio("clips/vocadito_1_vocal.wav"),
        shared_audio("musdb-preview/drums.wav"),
    ) else {
        return;
    };
    let dir = drums.parent().unwrap().to_path_buf();
    let (rate, v) = read_wav(&vocal);
    let mut backing: Vec<Vec<f32>> = Vec::new();
    for stem in ["drums", "bass", "other"] {
        let (r, c) = read_wav(&dir.join(format!("{stem}.wav")));
        assert_eq!(r, rate);
        if backing.is_empty() {
            backing = c;
        } else {
            for (b, x) in backing.iter_mut().zip(&c) {
                for (a, y) in b.iter_mut().zip(x) {
                    *a += y;
                }
            }
        }
    }
    let n = backing[0].len().min(v[0].len());
    let rms =
        |x: &[f32]| (x.iter().map(|v| (*v as f64).powi(2)).sum::<f64>() / x.len() as f64).sqrt();
    let gain = (rms(&backing[0][..n]) / rms(&v[0][..n])) as f32;
    let vocal: Vec<Vec<f32>> = (0..2)
        .map(|_| v[0][..n].iter().map(|x| x * gain).collect())
        .collect();
    let mix: Vec<Vec<f32>> = (0..2)
        .map(|c| (0..n).map(|i| vocal[c][i] + backing[c][i]).collect())
        .collect();
    let out = separate(models(), mix.clone(), rate, &mut quiet).unwrap();
    for c in 0..2 {
        let before = sdr(&vocal[c], &mix[c]);
        let after = sdr(&vocal[c], &out.vocal[c]);
        let backing_after = sdr(&backing[c][..n], &out.accompaniment[c]);
        println!(
            "channel {c}: vocal SDR {before:.2} dB as mixed, {after:.2} dB separated; accompaniment {backing_after:.2} dB"
        );
        assert!(
            after > before + 3.0,
            "channel {c}: {before:.2} → {after:.2} dB"
        );
        assert!(backing_after > sdr(&backing[c][..n], &mix[c]) + 3.0);
        let peak = mix[c].iter().fold(0.0f32, |m, x| m.max(x.abs()));
        let err = (0..n)
            .map(|i| (out.vocal[c][i] + out.accompaniment[c][i] - mix[c][i]).abs())
            .fold(0.0f32, f32::max);
        assert!(20.0 * (err / peak).log10() < -60.0, "sum error {err}");
    }
    let share = out.activity.as_ref().map(|a| a.active_share());
    println!("vocal activity share: {share:?}");
}

#[test]
fn every_rate_and_channel_count_comes_back_whole_and_bad_samples_never_spread() {
    for (rate, channels, seconds) in [
        (1000u32, 1usize, 1.0f32),
        (8000, 1, 0.5),
        (22_050, 3, 0.3),
        (44_100, 2, 0.7),
        (192_000, 2, 0.2),
    ] {
        let n = (rate as f32 * seconds) as usize;
        let mut x: Vec<Vec<f32>> = (0..channels)
            .map(|c| {
                (0..n)
                    .map(|i| (i as f32 * (0.05 + 0.01 * c as f32)).sin() * 0.3)
                    .collect()
            })
            .collect();
        x[0][n / 2] = f32::NAN;
        let out = separate(models(), x.clone(), rate, &mut quiet).unwrap();
        assert_eq!(out.vocal.len(), channels);
        assert_eq!(out.accompaniment.len(), channels);
        for ((input, v), a) in x.iter().zip(&out.vocal).zip(&out.accompaniment) {
            assert_eq!(v.len(), n);
            assert!(v.iter().chain(a).all(|s| s.is_finite()), "{rate} Hz");
            for ((x, v), a) in input.iter().zip(v).zip(a) {
                if x.is_finite() {
                    assert!((v + a - x).abs() < 1e-4, "{rate} Hz");
                }
            }
        }
    }
}

#[test]
fn silence_and_a_single_sample_separate_into_silence() {
    let out = separate(models(), vec![vec![0.0; 48_000]; 2], 48_000, &mut quiet).unwrap();
    assert!(out.vocal.iter().flatten().all(|v| *v == 0.0));
    assert!(out.accompaniment.iter().flatten().all(|v| *v == 0.0));
    let out = separate(models(), vec![vec![0.5]], 44_100, &mut quiet).unwrap();
    assert_eq!(out.vocal[0].len(), 1);
    assert!((out.vocal[0][0] + out.accompaniment[0][0] - 0.5).abs() < 1e-6);
    assert!(separate(models(), vec![], 44_100, &mut quiet).is_err());
    let e = separate(models(), vec![vec![0.0; 10]], 500, &mut quiet)
        .err()
        .unwrap();
    assert!(e.to_string().contains("500 Hz"), "{e}");
}

#[test]
fn a_cancelled_separation_says_cancelled_and_nothing_else() {
    let stop = std::sync::atomic::AtomicBool::new(true);
    let mono: Vec<f32> = (0..44_100 * 3)
        .map(|i| (i as f32 * 0.05).sin() * 0.3)
        .collect();
    let e = vocal_mask(models(), &mono, 44_100, &mut quiet, Some(&stop))
        .err()
        .expect("a set cancel flag stops it");
    assert_eq!(e, SeparationError::Cancelled);
    // a real failure is not a cancellation
    let e = vocal_mask(models(), &mono, 500, &mut quiet, None)
        .err()
        .unwrap();
    assert!(
        matches!(e, SeparationError::BadInput(ref why) if why.contains("500 Hz")),
        "{e}"
    );
}
