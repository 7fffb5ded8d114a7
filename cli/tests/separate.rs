//! `automix separate` and `automix vad` end to end: the real binary on real and broken files.

use std::process::{Command, Output};

use automix_tests::{TempDir, read_wav, shared_audio, stderr, write_wav};

fn automix(args: &[&str]) -> Output {
    automix_with(args, &[])
}

fn automix_with(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_automix"));
    c.args(args).env_remove("VOCAL_AUTOMIX_MODELS");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("automix runs")
}

fn tone(rate: u32, channels: usize, seconds: f32) -> Vec<Vec<f32>> {
    let n = (rate as f32 * seconds) as usize;
    (0..channels)
        .map(|c| {
            (0..n)
                .map(|i| {
                    let t = i as f32 / rate as f32;
                    0.3 * (t * 220.0 * (1.0 + c as f32 * 0.5) * std::f32::consts::TAU).sin()
                        + 0.05 * ((i * 7919 % 1000) as f32 / 500.0 - 1.0)
                })
                .collect()
        })
        .collect()
}

/// The outputs have the input's rate and channels and sum back to it within −60 dB.
fn assert_whole(input: &[Vec<f32>], rate: u32, vocal: &str, backing: &str) {
    let (vr, v) = read_wav(std::path::Path::new(vocal));
    let (br, b) = read_wav(std::path::Path::new(backing));
    assert_eq!((vr, br), (rate, rate));
    assert_eq!((v.len(), b.len()), (input.len(), input.len()));
    let peak = input.iter().flatten().fold(1e-9f32, |m, x| m.max(x.abs()));
    for c in 0..input.len() {
        assert_eq!(v[c].len(), input[c].len());
        let err = (0..input[c].len())
            .map(|i| (v[c][i] + b[c][i] - input[c][i]).abs())
            .fold(0.0f32, f32::max);
        assert!(20.0 * (err / peak).log10() < -60.0, "channel {c}: {err}");
    }
}

#[test]
fn separate_keeps_the_rate_and_channels_and_the_outputs_sum_to_the_input() {
    let dir = TempDir::new("separate-rates");
    for (rate, channels) in [(8000u32, 1usize), (44_100, 2), (192_000, 2), (48_000, 3)] {
        let x = tone(rate, channels, 0.6);
        let song = dir.s(&format!("song{rate}.wav"));
        write_wav(std::path::Path::new(&song), rate, &x);
        let out = automix(&["separate", &song, "-o", &dir.s("out")]);
        assert!(out.status.success(), "{rate} Hz: {}", stderr(&out));
        assert_whole(
            &x,
            rate,
            &dir.s(&format!("out/song{rate}_vocal.wav")),
            &dir.s(&format!("out/song{rate}_backing.wav")),
        );
    }
}

#[test]
fn separate_on_a_professional_song_with_named_outputs() {
    let Some(song) = shared_audio("musdb-preview/mixture.wav") else {
        return;
    };
    let dir = TempDir::new("separate-song");
    let out = automix(&[
        "separate",
        song.to_str().unwrap(),
        "--vocal-out",
        &dir.s("v.wav"),
        "--backing-out",
        &dir.s("b.wav"),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(text.contains("separated 6.8 s"), "{text}");
    let (rate, x) = read_wav(&song);
    assert_whole(&x, rate, &dir.s("v.wav"), &dir.s("b.wav"));
}

#[test]
fn bad_input_gets_a_message_or_a_correct_output() {
    let dir = TempDir::new("separate-bad");
    // no outputs named
    let song = dir.s("song.wav");
    write_wav(std::path::Path::new(&song), 44_100, &tone(44_100, 2, 0.2));
    let out = automix(&["separate", &song]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("--out-dir"), "{}", stderr(&out));
    // writing over the input
    let out = automix(&[
        "separate",
        &song,
        "--vocal-out",
        &song,
        "--backing-out",
        &dir.s("b.wav"),
    ]);
    assert!(!out.status.success());
    assert!(
        std::fs::metadata(&song).unwrap().len() > 1000,
        "the input survives"
    );
    // a file with no samples
    let empty = dir.s("empty.wav");
    write_wav(std::path::Path::new(&empty), 44_100, &[vec![], vec![]]);
    let out = automix(&["separate", &empty, "-o", &dir.s("o")]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("no audio"), "{}", stderr(&out));
    // one sample; silence; NaN samples
    for (name, x) in [
        ("one.wav", vec![vec![0.25f32]]),
        ("silence.wav", vec![vec![0.0; 44_100]; 2]),
        ("nan.wav", {
            let mut t = tone(44_100, 2, 0.3);
            t[1][100] = f32::NAN;
            t[0][5000] = f32::INFINITY;
            t
        }),
    ] {
        let path = dir.s(name);
        write_wav(std::path::Path::new(&path), 44_100, &x);
        let out = automix(&["separate", &path, "-o", &dir.s("o")]);
        assert!(out.status.success(), "{name}: {}", stderr(&out));
        let stem = name.trim_end_matches(".wav");
        let (_, v) = read_wav(&dir.path(&format!("o/{stem}_vocal.wav")));
        let (_, b) = read_wav(&dir.path(&format!("o/{stem}_backing.wav")));
        assert!(
            v.iter().chain(&b).flatten().all(|s| s.is_finite()),
            "{name}"
        );
        if name == "nan.wav" {
            assert!(stderr(&out).contains("NaN"), "{}", stderr(&out));
        }
        if name == "silence.wav" {
            assert!(v.iter().flatten().all(|s| *s == 0.0));
        }
    }
}

#[test]
fn a_broken_separator_is_refused_with_a_message_and_a_missing_one_too() {
    let dir = TempDir::new("separate-broken");
    let models = dir.path("models");
    std::fs::create_dir_all(&models).unwrap();
    let shipped = automix_tests::workspace().join("models");
    std::fs::copy(shipped.join("models.json"), models.join("models.json")).unwrap();
    std::fs::copy(shipped.join("vad.onnx"), models.join("vad.onnx")).unwrap();
    std::fs::write(models.join("separator.onnx"), b"not a model").unwrap();
    let song = dir.s("song.wav");
    write_wav(std::path::Path::new(&song), 44_100, &tone(44_100, 2, 0.3));
    let env = [("VOCAL_AUTOMIX_MODELS", models.to_str().unwrap())];
    let out = automix_with(&["separate", &song, "-o", &dir.s("o")], &env);
    assert!(!out.status.success());
    let e = stderr(&out);
    assert!(
        e.contains("no usable separator") && e.contains("separator.onnx"),
        "{e}"
    );
    assert!(!dir.path("o/song_vocal.wav").exists());
    // the VAD still works from the same folder
    let out = automix_with(&["vad", &song], &env);
    assert!(out.status.success(), "{}", stderr(&out));
    // with the VAD file gone too, `vad` refuses and says why
    std::fs::remove_file(models.join("vad.onnx")).unwrap();
    let out = automix_with(&["vad", &song], &env);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("no usable VAD"), "{}", stderr(&out));
}

#[test]
fn vad_finds_the_voice_in_a_song_and_none_in_silence() {
    let dir = TempDir::new("vad");
    let silence = dir.s("silence.wav");
    write_wav(
        std::path::Path::new(&silence),
        44_100,
        &[vec![0.0; 44_100 * 2]],
    );
    let out = automix(&["vad", &silence, "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["active_share"], 0.0, "{v}");
    assert_eq!(v["stretches"].as_array().unwrap().len(), 0);
    let frames = v["frames"].as_u64().unwrap();
    assert_eq!(frames, (2 * 44_100 - 1764) / 882 + 1);
    // shorter than a frame: a warning and nothing found
    let short = dir.s("short.wav");
    write_wav(std::path::Path::new(&short), 44_100, &[vec![0.1; 100]]);
    let out = automix(&["vad", &short]);
    assert!(out.status.success());
    assert!(
        stderr(&out).contains("shorter than one"),
        "{}",
        stderr(&out)
    );

    let (Some(vocal), Some(mix)) = (
        shared_audio("musdb-preview/vocals.wav"),
        shared_audio("musdb-preview/mixture.wav"),
    ) else {
        return;
    };
    let out = automix(&["vad", mix.to_str().unwrap(), "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let share = v["active_share"].as_f64().unwrap();
    // where the stem itself is loud enough to hear (within 30 dB of its loudest 20 ms)
    let (rate, stem) = read_wav(&vocal);
    let hop = (rate / 50) as usize;
    let frames: Vec<f64> = stem[0]
        .chunks(hop)
        .map(|c| c.iter().map(|x| (*x as f64).powi(2)).sum::<f64>() / c.len() as f64)
        .collect();
    let loudest = frames.iter().cloned().fold(0.0, f64::max);
    let sung = frames.iter().filter(|e| **e > loudest * 1e-3).count() as f64 / frames.len() as f64;
    println!("VAD share {share:.2}, the stem's own {sung:.2}");
    assert!(
        (share - sung).abs() < 0.25,
        "VAD {share:.2} against the stem's {sung:.2}"
    );
}

/// A 20-minute recording: separated whole, every sample accounted for (at 1 kHz, where the
/// file is small; the network sees as many frames as at any rate: frames are 16 ms).
#[test]
fn a_twenty_minute_recording_separates_whole() {
    let dir = TempDir::new("separate-long");
    let rate = 1000;
    let x = tone(rate, 1, 20.0 * 60.0);
    let song = dir.s("long.wav");
    write_wav(std::path::Path::new(&song), rate, &x);
    let out = automix(&["separate", &song, "-o", &dir.s("o")]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_whole(
        &x,
        rate,
        &dir.s("o/long_vocal.wav"),
        &dir.s("o/long_backing.wav"),
    );
}

/// An MP3 made here with LAME (`lame`, which scripts/test.sh installs): decoded gaplessly, its
/// stems line up with the audio that was encoded to the sample, are exactly as long, and sum
/// back to the decoded mixture. Before gapless decoding they came 1105 samples late (LAME's
/// encoder delay) and 1800 samples too long (its padding).
#[test]
fn an_mp3_separates_into_stems_in_time_with_what_was_encoded() {
    if Command::new("lame").arg("--version").output().is_err() {
        eprintln!(
            "SKIPPED: `lame` is not installed (scripts/test.sh installs it); this test encodes its MP3 with it"
        );
        assert!(
            std::env::var_os("AUTOMIX_REQUIRE_TOOLS").is_none(),
            "AUTOMIX_REQUIRE_TOOLS is set but `lame` is missing"
        );
        return;
    }
    let dir = TempDir::new("separate-mp3");
    let rate = 44_100;
    // clicks 0.25 s apart over a tone: a sharp onset to find the lag by
    let mut x = tone(rate, 2, 3.0);
    for c in &mut x {
        for k in 1..12 {
            c[k * rate as usize / 4] += 0.6;
        }
    }
    // 16-bit PCM: Debian's lame reads no float WAV
    let wav = dir.s("song.wav");
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(&wav, spec).unwrap();
    for i in 0..x[0].len() {
        for c in &mut x {
            c[i] = (c[i] * 32767.0).round() / 32767.0;
            w.write_sample((c[i] * 32767.0) as i16).unwrap();
        }
    }
    w.finalize().unwrap();
    let mp3 = dir.s("song.mp3");
    let enc = Command::new("lame")
        .args(["--quiet", "-b", "256", &wav, &mp3])
        .output()
        .expect("lame runs");
    assert!(enc.status.success(), "lame: {}", stderr(&enc));
    let out = automix(&["separate", &mp3, "-o", &dir.s("out")]);
    assert!(out.status.success(), "{}", stderr(&out));
    let (_, v) = read_wav(std::path::Path::new(&dir.s("out/song_vocal.wav")));
    let (_, b) = read_wav(std::path::Path::new(&dir.s("out/song_backing.wav")));
    assert_eq!(
        v[0].len(),
        x[0].len(),
        "the stems are as long as what was encoded"
    );
    let sum: Vec<f32> = v[0].iter().zip(&b[0]).map(|(a, b)| a + b).collect();
    // the lag at which the stems' sum best matches the original, within ±2000 samples
    let score = |lag: i64| -> f64 {
        (2000..sum.len() - 2000)
            .map(|i| sum[i] as f64 * x[0][(i as i64 + lag) as usize] as f64)
            .sum()
    };
    let best = (-2000i64..=2000).max_by(|&a, &b| score(a).total_cmp(&score(b)));
    assert_eq!(
        best,
        Some(0),
        "the stems are late or early against what was encoded"
    );
    // and at that lag they are the original within the codec's error
    let err: f64 = sum
        .iter()
        .zip(&x[0])
        .map(|(s, o)| (s - o) as f64)
        .map(|d| d * d)
        .sum();
    let energy: f64 = x[0].iter().map(|&o| (o as f64).powi(2)).sum();
    assert!(10.0 * (err / energy).log10() < -25.0, "{err} / {energy}");
}
