//! `automix analyze | mix | batch | demo` end to end: the real binary on files, the results
//! measured on the files it writes with the `ebur128` crate (not taken from the suggestion).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use automix_tests::{TempDir, ebu_loudness, read_wav, shared_audio, stderr, write_wav};
use engine::analysis::MixSuggestion;
use engine::analysis::suggestion::SearchOutcome;
use engine::params::Kind;
use engine::synth::{backing_track, vocal_line};

fn automix(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_automix"))
        .args(args)
        .output()
        .expect("automix runs")
}

/// Any audio file, decoded by the CLI's own reader (WAV, FLAC, Ogg…).
fn read_any(path: &Path) -> (u32, Vec<Vec<f32>>) {
    let (audio, _) = automix::audio_io::read(path).unwrap();
    (audio.sample_rate, audio.channels)
}

fn s(p: &Path) -> String {
    p.display().to_string()
}

/// `automix mix`; returns the suggestion and checks the level and range on the written files.
fn mix_and_check(
    dir: &TempDir,
    name: &str,
    vocal: &Path,
    backing: &Path,
    tempo: Option<f64>,
) -> MixSuggestion {
    let (mix, vout, sugg) = (
        dir.s(&format!("{name}.mix.wav")),
        dir.s(&format!("{name}.vocal.wav")),
        dir.s(&format!("{name}.json")),
    );
    let tempo_text = tempo.map(|t| t.to_string());
    let mut args = vec![
        "mix",
        "--vocal",
        vocal.to_str().unwrap(),
        "--backing",
        backing.to_str().unwrap(),
        "-o",
        &mix,
        "--vocal-out",
        &vout,
        "--suggestion-out",
        &sugg,
    ];
    if let Some(t) = &tempo_text {
        args.extend(["--tempo", t]);
    }
    let o = automix(&args);
    assert!(o.status.success(), "{name}: {}", stderr(&o));
    let suggestion = MixSuggestion::from_json(&std::fs::read_to_string(&sugg).unwrap()).unwrap();
    assert_finite_and_in_range(&suggestion, name);

    let (rate, v) = read_wav(Path::new(&vout));
    let (brate, mut b) = read_any(backing);
    if b.len() == 1 {
        // a mono backing plays on both sides of the mix
        b.push(b[0].clone());
    }
    let (vl, vlra) = ebu_loudness(rate, &v);
    let (bl, _) = ebu_loudness(brate, &b);
    let below = bl - vl;
    println!(
        "{name}: vocal {vl:.2} LUFS, backing {bl:.2} LUFS → {below:.2} LU under; rendered LRA {vlra:.2} ({:?}, {} passes); tempo {} ({:?}); EQ {}",
        suggestion.compression.outcome,
        suggestion.compression.passes,
        suggestion.reverb.tempo_bpm,
        suggestion.reverb.tempo_source,
        suggestion.eq.reason
    );
    if suggestion.ride.on {
        // the ride evens the vocal out around the level the rule chose, which moves its
        // integrated loudness a little: the rule is checked on the static render, the ride within
        // half a LU of it
        let mut still = suggestion.clone();
        still.params.set(engine::ParamId::RideOn, 0.0);
        let params = dir.s(&format!("{name}.still.json"));
        std::fs::write(&params, still.to_json()).unwrap();
        let out = dir.s(&format!("{name}.still.wav"));
        let o = automix(&[
            "render",
            "--vocal",
            &s(vocal),
            "--params",
            &params,
            "-o",
            &out,
        ]);
        assert!(o.status.success(), "{name}: {}", stderr(&o));
        let (rate, v) = read_wav(Path::new(&out));
        let still_below = bl - ebu_loudness(rate, &v).0;
        println!("{name}: ride on; {still_below:.2} LU under with the ride off");
        assert!(
            (still_below - 1.77).abs() <= 0.2,
            "{name}: {still_below:.3} LU under the backing, static"
        );
        assert!(
            (below - still_below).abs() <= 0.5,
            "{name}: the ride moved the vocal from {still_below:.2} to {below:.2} LU under"
        );
    } else {
        assert!(
            (below - 1.77).abs() <= 0.2,
            "{name}: {below:.3} LU under the backing"
        );
    }
    if suggestion.compression.outcome != SearchOutcome::StoppedAtFloor {
        assert!(vlra <= 16.36 + 0.2, "{name}: rendered LRA {vlra}");
    }
    suggestion
}

fn assert_finite_and_in_range(s: &MixSuggestion, name: &str) {
    for (id, v) in s.params.iter() {
        let spec = id.spec();
        assert!(v.is_finite(), "{name}: {} = {v}", spec.key);
        if let Kind::Continuous = spec.kind {
            assert!(v >= spec.min && v <= spec.max, "{name}: {} = {v}", spec.key);
        }
    }
    let json: serde_json::Value = serde_json::from_str(&s.to_json()).unwrap();
    fn walk(v: &serde_json::Value, name: &str) {
        match v {
            serde_json::Value::Number(n) => assert!(n.as_f64().unwrap().is_finite(), "{name}"),
            serde_json::Value::Array(a) => a.iter().for_each(|v| walk(v, name)),
            serde_json::Value::Object(o) => o.values().for_each(|v| walk(v, name)),
            _ => {}
        }
    }
    walk(&json, name);
}

#[test]
fn a_synthetic_vocal_and_backing_at_known_loudness_end_1_77_lu_apart() {
    let dir = TempDir::new("assist-known");
    for (k, (vpeak, bpeak, vrate, brate)) in [
        (0.5f32, 0.8f32, 44_100u32, 44_100u32),
        (0.05, 0.9, 48_000, 44_100),
        (0.9, 0.2, 44_100, 96_000),
    ]
    .into_iter()
    .enumerate()
    {
        let vocal = dir.path(&format!("v{k}.wav"));
        let backing = dir.path(&format!("b{k}.wav"));
        write_wav(
            &vocal,
            vrate,
            &[vocal_line(vrate as f32, 25.0, vpeak, k as u64)],
        );
        write_wav(
            &backing,
            brate,
            &backing_track(brate as f32, 30.0, 100.0, bpeak, k as u64),
        );
        mix_and_check(&dir, &format!("synthetic{k}"), &vocal, &backing, None);
    }
}

#[test]
fn real_vocals_over_real_backings() {
    let dir = TempDir::new("assist-real");
    // vocadito over the Vibe Ace backing
    if let (Some(v), Some(b)) = (
        shared_audio("clips/vocadito_1_vocal.wav"),
        shared_audio("backings/vibe_ace_instrumental.ogg"),
    ) {
        mix_and_check(&dir, "vocadito", &v, &b, None);
    }
    // the MUSDB preview: its vocal stem against the sum of the other stems
    if let Some(stems) = shared_audio("musdb-preview") {
        let (rate, vocals) = read_wav(&stems.join("vocals.wav"));
        let mut backing = vec![vec![0.0f32; vocals[0].len()]; 2];
        for stem in ["drums", "bass", "other"] {
            let (_, x) = read_wav(&stems.join(format!("{stem}.wav")));
            for (b, x) in backing.iter_mut().zip(&x) {
                for (b, x) in b.iter_mut().zip(x) {
                    *b += x;
                }
            }
        }
        let bpath = dir.path("musdb_backing.wav");
        write_wav(&bpath, rate, &backing);
        let s = mix_and_check(&dir, "musdb", &stems.join("vocals.wav"), &bpath, None);
        // 6.8 s: the tempo comes from the backing but the loudness range barely exists
        assert!(s.inputs.vocal.seconds > 6.0);
    }
    // a dozen MIR-1K clips: 16 kHz, backing left, vocal right
    if let Some(flac) = shared_audio("mir1k/flac") {
        let mut names: Vec<PathBuf> = std::fs::read_dir(&flac)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        names.sort();
        let step = names.len() / 12;
        for clip in names.iter().step_by(step.max(1)).take(12) {
            let (rate, ch) = read_any(clip);
            let stem = clip.file_stem().unwrap().to_string_lossy().to_string();
            let (v, b) = (
                dir.path(&format!("{stem}_v.wav")),
                dir.path(&format!("{stem}_b.wav")),
            );
            write_wav(&v, rate, &[ch[1].clone()]);
            write_wav(&b, rate, &[ch[0].clone()]);
            mix_and_check(&dir, &stem, &v, &b, None);
        }
    }
}

#[test]
fn analyze_prints_a_table_or_byte_identical_json() {
    let dir = TempDir::new("assist-json");
    write_wav(
        &dir.path("v.wav"),
        44_100,
        &[vocal_line(44_100.0, 15.0, 0.5, 3)],
    );
    write_wav(
        &dir.path("b.wav"),
        44_100,
        &backing_track(44_100.0, 15.0, 90.0, 0.7, 3),
    );
    let args = [
        "analyze",
        "--vocal",
        &dir.s("v.wav"),
        "--backing",
        &dir.s("b.wav"),
    ];
    let table = automix(&args);
    assert!(table.status.success(), "{}", stderr(&table));
    let text = String::from_utf8_lossy(&table.stdout);
    for part in ["EQ", "Compressor", "Reverb", "Level", "tempo", "LUFS"] {
        assert!(text.contains(part), "{part} missing:\n{text}");
    }
    let mut json_args = args.to_vec();
    json_args.push("--json");
    let a = automix(&json_args);
    let b = automix(&json_args);
    assert!(a.status.success());
    assert_eq!(a.stdout, b.stdout, "the same inputs give the same bytes");
    let s = MixSuggestion::from_json(&String::from_utf8_lossy(&a.stdout)).unwrap();
    assert_finite_and_in_range(&s, "json");

    // `render --params` takes the suggestion itself
    std::fs::write(dir.path("s.json"), &a.stdout).unwrap();
    let o = automix(&[
        "render",
        "--vocal",
        &dir.s("v.wav"),
        "--params",
        &dir.s("s.json"),
        "-o",
        &dir.s("r.wav"),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));

    // the tempo given wins
    let o = automix(&[
        "analyze",
        "--vocal",
        &dir.s("v.wav"),
        "--tempo",
        "60",
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let s = MixSuggestion::from_json(&String::from_utf8_lossy(&o.stdout)).unwrap();
    assert!((s.params.get(engine::ParamId::ReverbTime) - 3.11).abs() < 0.01);
    assert!(s.warnings.iter().any(|w| w.code == "backing_missing"));
}

/// A vocal and a backing, silent ones, two at odd rates, one with a NaN, one at 8 kHz, an
/// empty file, a text file and a truncated WAV.
fn write_odd_inputs(dir: &TempDir) {
    let rate = 44_100;
    write_wav(
        &dir.path("v.wav"),
        rate,
        &[vocal_line(rate as f32, 12.0, 0.5, 4)],
    );
    write_wav(
        &dir.path("b.wav"),
        rate,
        &backing_track(rate as f32, 12.0, 100.0, 0.7, 4),
    );
    write_wav(
        &dir.path("silent.wav"),
        rate,
        &[vec![0.0; rate as usize * 5]],
    );
    write_wav(
        &dir.path("silent2.wav"),
        rate,
        &vec![vec![0.0; rate as usize * 5]; 2],
    );
    write_wav(
        &dir.path("two.wav"),
        48_000,
        &[vocal_line(48_000.0, 2.0, 0.5, 5)],
    );
    write_wav(
        &dir.path("two_b.wav"),
        22_050,
        &backing_track(22_050.0, 2.0, 100.0, 0.7, 5),
    );
    let mut nan = vocal_line(rate as f32, 8.0, 0.5, 6);
    nan[500] = f32::NAN;
    write_wav(&dir.path("nan.wav"), rate, &[nan]);
    write_wav(
        &dir.path("low.wav"),
        8_000,
        &[vocal_line(8_000.0, 8.0, 0.5, 7)],
    );
    std::fs::write(dir.path("empty.wav"), b"").unwrap();
    std::fs::write(dir.path("text.wav"), b"not audio").unwrap();
    let full = std::fs::read(dir.path("v.wav")).unwrap();
    std::fs::write(dir.path("cut.wav"), &full[..full.len() / 3]).unwrap();
}

#[test]
fn odd_and_bad_inputs_get_a_result_or_one_clear_line() {
    let dir = TempDir::new("assist-odd");
    write_odd_inputs(&dir);
    let analyze = |v: &str, b: Option<&str>| {
        let mut args = vec![
            "analyze".to_string(),
            "--vocal".into(),
            dir.s(v),
            "--json".into(),
        ];
        if let Some(b) = b {
            args.extend(["--backing".into(), dir.s(b)]);
        }
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        automix(&refs)
    };
    // one clear line and exit 1
    for (v, b, says) in [
        ("silent.wav", Some("b.wav"), "the vocal is silent"),
        ("missing.wav", Some("b.wav"), "cannot open"),
        ("empty.wav", Some("b.wav"), "is empty"),
        ("text.wav", Some("b.wav"), "not an audio file"),
        ("v.wav", Some("text.wav"), "backing:"),
        // an 8 kHz backing ends where a vocal's presence starts: nothing to judge it against
        (
            "v.wav",
            Some("low.wav"),
            "backing: the backing is sampled at 8000 Hz",
        ),
    ] {
        let o = analyze(v, b);
        assert_eq!(o.status.code(), Some(1), "{v}: {}", stderr(&o));
        let e = stderr(&o);
        assert!(
            e.contains("automix: error:") && e.contains(says),
            "{v}/{b:?}: {e}"
        );
        assert_eq!(e.lines().filter(|l| l.contains("error")).count(), 1, "{e}");
        assert!(!e.contains("panicked"), "{e}");
    }
    // a result, with warnings where something is off
    for (v, b, warning) in [
        ("v.wav", Some("silent2.wav"), Some("backing_silent")),
        ("v.wav", None, Some("backing_missing")),
        ("two.wav", Some("two_b.wav"), None),
        ("nan.wav", Some("b.wav"), Some("vocal_not_finite")),
        ("low.wav", Some("b.wav"), None),
        ("cut.wav", Some("b.wav"), None),
        ("v.wav", Some("two_b.wav"), None),
    ] {
        let o = analyze(v, b);
        assert!(o.status.success(), "{v}/{b:?}: {}", stderr(&o));
        let s = MixSuggestion::from_json(&String::from_utf8_lossy(&o.stdout)).unwrap();
        assert_finite_and_in_range(&s, v);
        if let Some(w) = warning {
            assert!(
                s.warnings.iter().any(|x| x.code == w),
                "{v}: {:?}",
                s.warnings
            );
        }
    }
    let o = analyze("cut.wav", Some("b.wav"));
    assert!(stderr(&o).contains("truncated"), "{}", stderr(&o));
    // a mix needs the backing
    let o = automix(&["mix", "--vocal", &dir.s("v.wav"), "-o", &dir.s("m.wav")]);
    assert_eq!(o.status.code(), Some(2));
    assert!(!dir.path("m.wav").exists());
}

#[test]
fn a_twenty_minute_file_is_analysed() {
    let dir = TempDir::new("assist-long");
    let rate = 44_100;
    let line = vocal_line(rate as f32, 30.0, 0.5, 8);
    let long: Vec<f32> = (0..40).flat_map(|_| line.iter().copied()).collect();
    write_wav(&dir.path("v.wav"), rate, &[long]);
    let [l, r] = backing_track(rate as f32, 60.0, 100.0, 0.7, 8);
    let tile = |x: &Vec<f32>| {
        (0..20)
            .flat_map(|_| x.iter().copied())
            .collect::<Vec<f32>>()
    };
    write_wav(&dir.path("b.wav"), rate, &[tile(&l), tile(&r)]);
    let o = automix(&[
        "analyze",
        "--vocal",
        &dir.s("v.wav"),
        "--backing",
        &dir.s("b.wav"),
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let s = MixSuggestion::from_json(&String::from_utf8_lossy(&o.stdout)).unwrap();
    assert!((s.inputs.vocal.seconds - 1200.0).abs() < 0.1);
    assert!(
        (s.reverb.tempo_bpm - 100.0).abs() < 2.0,
        "{}",
        s.reverb.tempo_bpm
    );
    assert_finite_and_in_range(&s, "20 min");
}

#[test]
fn batch_mixes_every_pair_and_reports_the_odd_ones() {
    let dir = TempDir::new("assist-batch");
    let songs = dir.path("songs");
    std::fs::create_dir_all(&songs).unwrap();
    for (k, name) in ["alpha", "beta", "gamma"].iter().enumerate() {
        write_wav(
            &songs.join(format!("{name}_vocal.wav")),
            44_100,
            &[vocal_line(44_100.0, 12.0, 0.5, k as u64)],
        );
        write_wav(
            &songs.join(format!("{name}_backing.wav")),
            44_100,
            &backing_track(44_100.0, 12.0, 90.0 + 10.0 * k as f32, 0.7, k as u64),
        );
    }
    write_wav(
        &songs.join("lonely_vocal.wav"),
        44_100,
        &[vocal_line(44_100.0, 3.0, 0.5, 9)],
    );
    std::fs::write(songs.join("notes.txt"), "not audio").unwrap();
    let out = dir.path("out");
    let o = automix(&["batch", &s(&songs), "--out-dir", &s(&out), "--jobs", "2"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let table = String::from_utf8_lossy(&o.stdout);
    for name in ["alpha", "beta", "gamma"] {
        assert!(table.contains(name), "{table}");
        for f in ["mix.wav", "vocal.wav", "suggestion.json"] {
            assert!(out.join(format!("{name}.{f}")).exists(), "{name}.{f}");
        }
    }
    assert!(
        stderr(&o).contains("lonely_vocal.wav: no partner"),
        "{}",
        stderr(&o)
    );
    let tsv = std::fs::read_to_string(out.join("summary.tsv")).unwrap();
    assert_eq!(tsv.lines().count(), 4, "{tsv}");
    assert!(tsv.lines().skip(1).all(|l| l.ends_with("mixed")), "{tsv}");

    // a broken pair fails alone, and the batch says so with exit 1
    std::fs::write(songs.join("delta_vocal.wav"), b"broken").unwrap();
    write_wav(
        &songs.join("delta_backing.wav"),
        44_100,
        &backing_track(44_100.0, 5.0, 100.0, 0.7, 1),
    );
    let o = automix(&["batch", &s(&songs), "--out-dir", &s(&out)]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let tsv = std::fs::read_to_string(out.join("summary.tsv")).unwrap();
    assert_eq!(
        tsv.lines().filter(|l| l.ends_with("mixed")).count(),
        3,
        "{tsv}"
    );
    assert!(tsv.contains("failed: vocal:"), "{tsv}");
    assert!(stderr(&o).contains("1 of 4 pairs failed"), "{}", stderr(&o));

    let empty = dir.path("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let o = automix(&["batch", &s(&empty)]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("no vocal/backing pairs"));
}

#[test]
fn demo_needs_no_input_and_mixes_with_the_assistant() {
    let dir = TempDir::new("assist-demo");
    let o = automix(&["demo", "--out-dir", &dir.s("d")]);
    assert!(o.status.success(), "{}", stderr(&o));
    for f in [
        "vocal_dry.wav",
        "backing.wav",
        "vocal_mixed.wav",
        "mix.wav",
        "suggestion.json",
        "report.txt",
    ] {
        assert!(dir.path("d").join(f).exists(), "{f} missing");
    }
    let s =
        MixSuggestion::from_json(&std::fs::read_to_string(dir.path("d/suggestion.json")).unwrap())
            .unwrap();
    assert!(
        (s.reverb.tempo_bpm - 96.0).abs() < 2.0,
        "the demo's 96 BPM: {}",
        s.reverb.tempo_bpm
    );
    let (rate, v) = read_wav(&dir.path("d/vocal_mixed.wav"));
    let (brate, b) = read_wav(&dir.path("d/backing.wav"));
    let below = ebu_loudness(brate, &b).0 - ebu_loudness(rate, &v).0;
    assert!((below - 1.77).abs() <= 0.2, "{below}");
    // deterministic: a second run writes the very same files
    let again = TempDir::new("assist-demo2");
    assert!(
        automix(&["demo", "--out-dir", &again.s("d")])
            .status
            .success()
    );
    for f in ["mix.wav", "suggestion.json"] {
        assert_eq!(
            std::fs::read(dir.path("d").join(f)).unwrap(),
            std::fs::read(again.path("d").join(f)).unwrap(),
            "{f}"
        );
    }
}
