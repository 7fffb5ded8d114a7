//! `--reference`, `--profile`, `--lock`, `automix learn`, `automix reference` and the vocal gate,
//! end to end: the real binary on the shared songs and on broken references.

use std::path::Path;
use std::process::{Command, Output};

use automix_tests::{TempDir, read_wav, shared_audio, stderr, write_wav};
use serde_json::Value;

const SONG: &str = "musdb-excerpts/Al James - Schoolboy Facination";

/// The binary with its own reference cache in `cache`.
fn automix(cache: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_automix"))
        .args(args)
        .env_remove("VOCAL_AUTOMIX_MODELS")
        .env("VOCAL_AUTOMIX_CACHE", cache)
        .output()
        .expect("automix runs")
}

fn json(out: &Output) -> Value {
    assert!(out.status.success(), "{}", stderr(out));
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

fn song_file(name: &str) -> Option<String> {
    shared_audio(&format!("{SONG}/{name}")).map(|p| p.display().to_string())
}

#[test]
fn a_reference_becomes_the_targets_and_its_measures_are_cached() {
    let (Some(vocal), Some(backing), Some(mixture)) = (
        song_file("vocals.flac"),
        song_file("accompaniment.flac"),
        song_file("mixture.flac"),
    ) else {
        return;
    };
    let dir = TempDir::new("reference-cache");
    let cache = dir.path("cache");
    let args = |extra: &[&str]| -> Vec<String> {
        let mut a: Vec<String> = [
            "analyze",
            "--vocal",
            &vocal,
            "--backing",
            &backing,
            "--json",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    };
    let run = |extra: &[&str]| {
        let a = args(extra);
        json(&automix(
            &cache,
            &a.iter().map(String::as_str).collect::<Vec<_>>(),
        ))
    };
    let plain = run(&[]);
    let matched = run(&["--reference", &mixture]);
    let r = &matched["reference"];
    let vmb = r["measures"]["vocal_minus_backing_lu"].as_f64().unwrap();
    assert_eq!(r["source"], "mixture.flac");
    let level = matched["level"]["reason"].as_str().unwrap();
    assert!(
        level.starts_with("from the reference (mixture.flac"),
        "{level}"
    );
    // the level aims at the reference's balance as far as its confidence goes
    let confidence = r["measures"]["confidence"]["balance"].as_f64().unwrap();
    assert!(confidence > 0.0 && confidence <= 1.0, "{confidence}");
    let aimed = -matched["level"]["target_below_backing_lu"]
        .as_f64()
        .unwrap();
    let want = -1.77 + confidence * (vmb + 1.77);
    assert!(
        (aimed - want).abs() < 0.02,
        "the level aims at {aimed}, the reference's balance {vmb} at confidence {confidence} is {want}"
    );
    assert!(plain.get("reference").is_none());
    assert_ne!(plain["params"], matched["params"]);

    // the measures were cached: a doctored entry is what the next run uses
    let entries: Vec<_> = std::fs::read_dir(cache.join("references"))
        .unwrap()
        .flatten()
        .collect();
    assert_eq!(entries.len(), 1);
    let file = entries[0].path();
    let mut entry: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    entry["measures"]["vocal_minus_backing_lu"] = (-9.5).into();
    std::fs::write(&file, entry.to_string()).unwrap();
    let doctored = run(&["--reference", &mixture, "--amount", "level=50"]);
    let want = -1.77 + 0.5 * confidence * (-9.5 + 1.77);
    let got = -doctored["level"]["target_below_backing_lu"]
        .as_f64()
        .unwrap();
    assert!((got - want).abs() < 0.02, "{got} for {want}");
    assert!(
        doctored["level"]["reason"]
            .as_str()
            .unwrap()
            .contains("at 50 %")
    );
    // a damaged entry is measured again, not trusted
    std::fs::write(&file, "{ not json").unwrap();
    let again = run(&["--reference", &mixture]);
    assert_eq!(
        again["reference"]["measures"],
        matched["reference"]["measures"]
    );
}

#[test]
fn bad_references_say_what_is_wrong() {
    let dir = TempDir::new("reference-bad");
    let cache = dir.path("cache");
    let rate = 44_100;
    let n = rate as usize * 12;
    // a vocal-like line and a backing, both synthetic
    let vocal: Vec<f32> = engine::synth::vocal_line(rate as f32, 12.0, 0.4, 3);
    let [bl, br] = engine::synth::backing_track(rate as f32, 12.0, 100.0, 0.6, 4);
    write_wav(&dir.path("vocal.wav"), rate, std::slice::from_ref(&vocal));
    write_wav(&dir.path("backing.wav"), rate, &[bl.clone(), br.clone()]);
    let analyze = |reference: &str| {
        automix(
            &cache,
            &[
                "analyze",
                "--vocal",
                &dir.s("vocal.wav"),
                "--backing",
                &dir.s("backing.wav"),
                "--reference",
                reference,
                "--json",
            ],
        )
    };
    // an instrumental: no singing, said, and the defaults mix
    write_wav(
        &dir.path("instrumental.wav"),
        rate,
        &[bl[..n].to_vec(), br[..n].to_vec()],
    );
    let out = analyze(&dir.s("instrumental.wav"));
    let s = json(&out);
    assert!(
        stderr(&out).contains("no singing found"),
        "{}",
        stderr(&out)
    );
    assert!(s.get("reference").is_none());
    assert!(
        s["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w["message"].as_str().unwrap().contains("no singing found"))
    );
    // too short, corrupt, empty, missing: an error that names the file and what to do
    write_wav(
        &dir.path("short.wav"),
        rate,
        &[vocal[..rate as usize * 2].to_vec()],
    );
    std::fs::write(dir.path("corrupt.wav"), b"RIFF\x10\0\0\0WAVEfmt garbage").unwrap();
    std::fs::write(dir.path("empty.flac"), b"").unwrap();
    for (file, says) in [
        ("short.wav", "at least 5 s"),
        ("corrupt.wav", "corrupt.wav"),
        ("empty.flac", "empty.flac"),
        ("missing.wav", "missing.wav"),
    ] {
        let out = analyze(&dir.s(file));
        assert!(!out.status.success(), "{file}");
        let e = stderr(&out);
        assert!(e.contains("reference") && e.contains(says), "{file}: {e}");
    }
    // a mono reference at another rate is measured (with a note), not refused
    let Some(mixture) = song_file("mixture.flac") else {
        return;
    };
    let (song, _) = automix::audio_io::read(Path::new(&mixture)).unwrap();
    let mono = engine::separation::downmix(&song.channels);
    let mono_22k = engine::resample::resample(&[mono], song.sample_rate, 22_050).unwrap();
    write_wav(&dir.path("mono22k.wav"), 22_050, &mono_22k);
    let out = analyze(&dir.s("mono22k.wav"));
    let s = json(&out);
    assert!(stderr(&out).contains("mono"), "{}", stderr(&out));
    assert!(s["reference"]["measures"]["vocal_minus_backing_lu"].is_number());
}

#[test]
fn locked_stages_keep_the_settings_given() {
    let dir = TempDir::new("reference-lock");
    let rate = 44_100;
    let vocal = engine::synth::vocal_line(rate as f32, 15.0, 0.4, 5);
    let [bl, br] = engine::synth::backing_track(rate as f32, 15.0, 100.0, 0.6, 6);
    write_wav(&dir.path("vocal.wav"), rate, &[vocal]);
    write_wav(&dir.path("backing.wav"), rate, &[bl, br]);
    std::fs::write(
        dir.path("current.json"),
        r#"{"comp_threshold_db": -31, "comp_ratio": 7.5, "level_gain_db": -4}"#,
    )
    .unwrap();
    let s = json(&automix(
        &dir.path("cache"),
        &[
            "analyze",
            "--vocal",
            &dir.s("vocal.wav"),
            "--backing",
            &dir.s("backing.wav"),
            "--lock",
            "compressor,level",
            "--current",
            &dir.s("current.json"),
            "--json",
        ],
    ));
    assert_eq!(s["params"]["comp_threshold_db"], -31.0);
    assert_eq!(s["params"]["comp_ratio"], 7.5);
    assert_eq!(s["params"]["level_gain_db"], -4.0);
    assert_eq!(s["locked"], serde_json::json!(["compressor", "level"]));
    assert!(
        s["compression"]["reason"]
            .as_str()
            .unwrap()
            .starts_with("locked")
    );
    let bad = automix(
        &dir.path("cache"),
        &["analyze", "--vocal", "v.wav", "--lock", "chorus"],
    );
    assert!(stderr(&bad).contains("not a stage"), "{}", stderr(&bad));
}

/// The level's target in the profile `p` is the median of the songs measured with confidence
/// (all, if none was); `learn`'s output reports each song with its confidence, and what the
/// target was taken over.
fn assert_median_of_the_sure_songs(p: &Value, out: &std::process::Output) {
    let songs: Vec<(f64, f64)> = p["measured"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let m = &s["measures"];
            (
                m["vocal_minus_backing_lu"].as_f64().unwrap(),
                m["confidence"]["balance"].as_f64().unwrap(),
            )
        })
        .collect();
    let sure: Vec<f64> = songs.iter().filter(|s| s.1 >= 0.5).map(|s| s.0).collect();
    let used = if sure.is_empty() {
        songs.iter().map(|s| s.0).collect()
    } else {
        sure
    };
    let median = p["median"]["vocal_minus_backing_lu"].as_f64().unwrap();
    let want = used.iter().sum::<f64>() / used.len() as f64;
    assert!((median - want).abs() < 0.01, "{median} {songs:?}");
    let said = format!("{}{}", stderr(out), String::from_utf8_lossy(&out.stdout));
    assert!(
        said.contains("a.flac: vocal") && said.contains(" %)"),
        "{said}"
    );
    let n_sure = songs.iter().filter(|s| s.1 >= 0.5).count();
    assert!(
        said.contains(&format!("the median of the {n_sure} of 2 songs")),
        "{said}"
    );
}

#[test]
fn learn_measures_a_folder_once_and_its_profile_mixes() {
    let (Some(vocal), Some(backing)) = (song_file("vocals.flac"), song_file("accompaniment.flac"))
    else {
        return;
    };
    let songs: Vec<_> = [
        "musdb-excerpts/Al James - Schoolboy Facination/mixture.flac",
        "musdb-excerpts/Angels In Amplifiers - I'm Alright/mixture.flac",
    ]
    .iter()
    .filter_map(|s| shared_audio(s))
    .collect();
    if songs.len() < 2 {
        return;
    }
    let dir = TempDir::new("learn");
    let library = dir.path("library");
    std::fs::create_dir_all(library.join("more")).unwrap();
    std::fs::copy(&songs[0], library.join("a.flac")).unwrap();
    std::fs::copy(&songs[1], library.join("more/b.flac")).unwrap();
    std::fs::write(library.join("broken.wav"), b"not audio").unwrap();
    let cache = dir.path("cache");
    let profile = dir.s("profile.json");
    let out = automix(
        &cache,
        &["learn", &library.display().to_string(), "-o", &profile],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("0 measured before"),
        "{}",
        stderr(&out)
    );
    let p: Value = serde_json::from_str(&std::fs::read_to_string(&profile).unwrap()).unwrap();
    assert_eq!(p["format"], "vocal-automix/profile");
    assert_eq!(p["songs"], 2);
    assert_eq!(
        p["skipped"][0]["file"].as_str().unwrap(),
        library.join("broken.wav").display().to_string()
    );
    assert_median_of_the_sure_songs(&p, &out);
    // resumable: the second run measures nothing again
    let again = automix(
        &cache,
        &["learn", &library.display().to_string(), "-o", &profile],
    );
    assert!(
        stderr(&again).contains("2 measured before"),
        "{}",
        stderr(&again)
    );
    // the profile mixes end to end
    let mix = dir.s("mix.wav");
    let out = automix(
        &cache,
        &[
            "mix",
            "--vocal",
            &vocal,
            "--backing",
            &backing,
            "--profile",
            &profile,
            "-o",
            &mix,
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains("from the reference (the profile profile.json of 2 songs")
    );
    let (rate, m) = read_wav(Path::new(&mix));
    assert_eq!((rate, m.len()), (44_100, 2));
    assert!(m.iter().flatten().all(|x| x.is_finite()));
    // a file that is not a profile
    let bad = automix(&cache, &["analyze", "--vocal", &vocal, "--profile", &vocal]);
    assert!(stderr(&bad).contains("not a profile"), "{}", stderr(&bad));
}

/// Once the backing bleeds into the vocal, the VAD gate keeps fewer unsung frames than the
/// loudness gate (what the analysis's spectra need: an unsung frame adds bleed, a sung frame left
/// out costs little) and loses little of the singing doing it (F1 better at −10 dB); on a clean
/// vocal it is about as precise, its F1 within 0.03 (MIR-1K's labels).
#[test]
fn the_vad_gate_keeps_singing_and_drops_bleed_better_than_the_loudness_gate() {
    let Some(mir1k) = shared_audio("mir1k") else {
        return;
    };
    let out = automix(
        Path::new("/nonexistent"),
        &[
            "vad",
            "--compare-gates",
            &mir1k.display().to_string(),
            "--limit",
            "60",
            "--json",
        ],
    );
    let s = json(&out);
    let rows = s["conditions"].as_array().unwrap();
    assert_eq!(rows.len(), 3);
    for r in rows {
        let of = |gate: &str, what: &str| r[gate][what].as_f64().unwrap();
        let (lp, vp) = (of("loudness", "precision"), of("vad", "precision"));
        let (lf, vf) = (of("loudness", "f1"), of("vad", "f1"));
        println!(
            "bleed {:?}: precision loudness {lp:.3} VAD {vp:.3}; F1 loudness {lf:.3} VAD {vf:.3}; VAD recall {:.3}",
            r["bleed_db"],
            of("vad", "recall")
        );
        assert!(of("vad", "recall") > 0.85, "{r}");
        match r["bleed_db"].as_f64() {
            None => {
                assert!(vp > lp - 0.01, "precision: loudness {lp}, VAD {vp}");
                assert!(vf > lf - 0.03, "F1: loudness {lf}, VAD {vf}");
            }
            Some(db) => {
                assert!(vp > lp, "precision: loudness {lp}, VAD {vp}");
                if db >= -10.0 {
                    assert!(vf > lf, "F1: loudness {lf}, VAD {vf}");
                }
            }
        }
    }
}

/// `automix dataset --separate`: mixed songs separated into level (and compression) examples,
/// their targets the separated song's measures.
#[test]
fn dataset_separate_makes_level_data_from_mixed_songs() {
    let Some(mixture) = song_file("mixture.flac") else {
        return;
    };
    let dir = TempDir::new("dataset-separate");
    let songs = dir.path("songs");
    std::fs::create_dir_all(&songs).unwrap();
    std::fs::copy(&mixture, songs.join("song.flac")).unwrap();
    let out = automix(
        &dir.path("cache"),
        &[
            "dataset",
            &songs.display().to_string(),
            "--out",
            &dir.s("data"),
            "--task",
            "level",
            "--separate",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let meta: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path("data/level/meta.json")).unwrap())
            .unwrap();
    assert_eq!(meta["sources"], 1);
    let examples: u64 = ["train", "validation", "test"]
        .iter()
        .map(|s| meta["examples"][s].as_u64().unwrap())
        .sum();
    assert!(examples > 0, "{meta}");
    // every example's target is the song's separated balance, as `automix reference` measures it
    let targets = std::fs::read(dir.path("data/level/targets.f32")).unwrap();
    let t: Vec<f32> = targets
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
        .collect();
    let measured = json(&automix(
        &dir.path("cache"),
        &["reference", &mixture, "--json"],
    ));
    let want = measured[0]["measures"]["vocal_minus_backing_lu"]
        .as_f64()
        .unwrap();
    assert_eq!(t.len() as u64, examples);
    assert!(
        t.iter().all(|v| (*v as f64 - want).abs() < 0.01),
        "{t:?} for {want}"
    );
    // the self-supervised tasks are not made from separated songs
    let eq = automix(
        &dir.path("cache"),
        &[
            "dataset",
            &songs.display().to_string(),
            "--out",
            &dir.s("d2"),
            "--separate",
        ],
    );
    assert!(!eq.status.success());
    assert!(stderr(&eq).contains("self-supervised"), "{}", stderr(&eq));
}

/// The five professional songs, none of which the separator was trained on: a reference's
/// measures from our separation of its mixture against the same measures on its true stems, and
/// every song's vocal mixed like every other song (`automix reference --accuracy`, the tables in
/// docs/reference.md). The balance read from a mixture holds within [`BALANCE_MAE_LU`] on average;
/// the level aims at it by its confidence; and a reference, leaned on by its confidence, does not
/// make the mixes worse on average than no reference.
/// One song of `automix reference --accuracy`: the level aims at the measured balance as far as
/// its confidence goes, the loudness range and the trusted tone bands survive separation; the
/// balance's error, LU.
fn assert_reference_row(r: &Value) -> f64 {
    let song = r["song"].as_str().unwrap();
    let get = |side: &str, m: &str| r[side].get(m).and_then(Value::as_f64);
    let (vs, vt) = (
        get("separated", "vocal_minus_backing_lu").unwrap(),
        get("stems", "vocal_minus_backing_lu").unwrap(),
    );
    let (ls, lt) = (
        get("separated", "vocal_loudness_range_lu").unwrap(),
        get("stems", "vocal_loudness_range_lu").unwrap(),
    );
    let confidence = r["separated"]["confidence"]["balance"].as_f64().unwrap();
    println!(
        "{song}: balance {vt:+.2} → {vs:+.2} ({:+.2}, confidence {confidence:.2}), LRA {lt:.2} → {ls:.2} ({:+.2})",
        vs - vt,
        ls - lt,
    );
    // the level decision aims at the measured balance as far as its confidence goes
    let aimed = r["matched"]["target_lu"].as_f64().unwrap();
    let want = -1.77 + confidence * (vs + 1.77);
    assert!(
        (aimed - want).abs() < 0.02,
        "{song}: aimed at {aimed}, the reference measured {vs} at confidence {confidence}"
    );
    // the loudness range survives separation within 2 LU
    assert!((ls - lt).abs() < 2.0, "{song}: LRA {lt} → {ls}");
    // the tone, in the bands it is trusted in, within 3 dB of the stems'
    let bands = |v: &Value| -> Vec<f64> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect()
    };
    let share = bands(&r["separated"]["tone_vocal_share"]);
    let (s, t) = (
        bands(&r["separated"]["tone_relative_db"]),
        bands(&r["stems"]["tone_relative_db"]),
    );
    for b in 0..9 {
        if share[b] >= engine::analysis::reference::TONE_MIN_SHARE {
            assert!(
                (s[b] - t[b]).abs() < 3.0,
                "{song} band {b}: {} → {}",
                t[b],
                s[b]
            );
        }
    }
    (vs - vt).abs()
}

#[test]
fn a_references_measures_from_separation_against_its_stems() {
    let dirs: Vec<String> = ["musdb-excerpts", "musdb-preview"]
        .iter()
        .filter_map(|d| shared_audio(d))
        .map(|p| p.display().to_string())
        .collect();
    if dirs.len() < 2 {
        return;
    }
    let dir = TempDir::new("reference-accuracy");
    let mut args = vec!["reference", "--accuracy", "--json"];
    args.extend(dirs.iter().map(String::as_str));
    let report = json(&automix(&dir.path("cache"), &args));
    let rows = report["songs"].as_array().unwrap();
    assert_eq!(rows.len(), 5);
    let errors: Vec<f64> = rows.iter().map(assert_reference_row).collect();
    let mae = errors.iter().sum::<f64>() / errors.len() as f64;
    println!("balance read from the mixtures: mean absolute error {mae:.2} LU");
    assert!(mae < BALANCE_MAE_LU, "balance error {mae:.2} LU");
    // every song mixed like every other: on average no further from the reference's balance
    // than without it
    let pairs = report["pairs"].as_array().unwrap();
    assert_eq!(pairs.len(), 20);
    let error = |p: &Value, which: &str| {
        (p[which]["balance_lu"].as_f64().unwrap() - p["target_balance_lu"].as_f64().unwrap()).abs()
    };
    let with = pairs
        .iter()
        .map(|p| error(p, "with_reference"))
        .sum::<f64>()
        / 20.0;
    let without = pairs.iter().map(|p| error(p, "without")).sum::<f64>() / 20.0;
    println!(
        "mixed like another song: {with:.2} LU from its balance with the reference, {without:.2} without"
    );
    assert!(
        with <= without + 0.1,
        "with {with:.2}, without {without:.2}"
    );
}

/// What the balance read from a professional mixture holds to on the five shared songs
/// (docs/reference.md gives the figures; the issue's goal is 1.0 LU).
const BALANCE_MAE_LU: f64 = 1.0;

/// A spoken-word file made with espeak-ng (its path), or `None` said loudly when it is missing.
fn spoken_word(dir: &TempDir) -> Option<String> {
    let spoken = dir.s("spoken.wav");
    let text = "This is a recording of somebody speaking, not singing. It has no music under it, \
                and it goes on for long enough to be measured as a reference song would be.";
    match Command::new("espeak-ng")
        .args(["-w", &spoken, text])
        .output()
    {
        Ok(o) if o.status.success() => Some(spoken),
        _ => {
            eprintln!(
                "SKIPPED (part): espeak-ng is not installed (scripts/test.sh installs it); no spoken-word reference"
            );
            assert!(
                std::env::var_os("AUTOMIX_REQUIRE_TOOLS").is_none(),
                "espeak-ng is missing"
            );
            None
        }
    }
}

/// 3 s of `vocal` (`3s.wav`) and 10 s of silence (`silence.wav`).
fn write_short_and_silent(dir: &TempDir, vocal: &[f32], rate: u32) {
    write_wav(
        &dir.path("3s.wav"),
        rate,
        &[vocal[..3 * rate as usize].to_vec()],
    );
    write_wav(
        &dir.path("silence.wav"),
        rate,
        &vec![vec![0.0; 10 * rate as usize]; 2],
    );
}

/// `mixture` at 8 kHz (`8k.wav`) and clipped 18 dB into full scale (`clipped.wav`).
fn write_degraded_copies(dir: &TempDir, mixture: &str) {
    let (song, _) = automix::audio_io::read(Path::new(mixture)).unwrap();
    let low = engine::resample::resample(&song.channels, song.sample_rate, 8000).unwrap();
    write_wav(&dir.path("8k.wav"), 8000, &low);
    let clipped: Vec<Vec<f32>> = song
        .channels
        .iter()
        .map(|c| c.iter().map(|x| (x * 8.0).clamp(-1.0, 1.0)).collect())
        .collect();
    write_wav(&dir.path("clipped.wav"), song.sample_rate, &clipped);
}

/// References that are not a produced song, or are damaged: an a cappella, spoken word, a song
/// at 8 kHz, a clipped one, 3 s, silence. Each gets a message that says what is odd; what is
/// measured carries a lower confidence; and none moves the level further than a clean reference
/// would (an a cappella or spoken one not at all).
#[test]
fn odd_references_get_a_message_a_low_confidence_and_do_no_harm() {
    let Some(mixture) = song_file("mixture.flac") else {
        return;
    };
    let dir = TempDir::new("reference-odd");
    let cache = dir.path("cache");
    let rate = 44_100;
    let vocal: Vec<f32> = engine::synth::vocal_line(rate as f32, 12.0, 0.4, 3);
    let [bl, br] = engine::synth::backing_track(rate as f32, 12.0, 100.0, 0.6, 4);
    write_wav(&dir.path("vocal.wav"), rate, std::slice::from_ref(&vocal));
    write_wav(&dir.path("backing.wav"), rate, &[bl, br]);
    let analyze = |reference: Option<&str>| {
        let mut a = vec!["analyze", "--vocal", "v", "--backing", "b", "--json"];
        let (v, b) = (dir.s("vocal.wav"), dir.s("backing.wav"));
        a[2] = &v;
        a[4] = &b;
        if let Some(r) = reference {
            a.extend(["--reference", r]);
        }
        automix(&cache, &a)
    };
    let below = |out: &Output| {
        json(out)["level"]["target_below_backing_lu"]
            .as_f64()
            .unwrap()
    };
    let plain = below(&analyze(None));
    let clean = analyze(Some(&mixture));
    let clean_conf = json(&clean)["reference"]["measures"]["confidence"].clone();
    let clean_moved = (below(&clean) - plain).abs();

    // an a cappella (a voice alone) and spoken word: the level stays the assistant's own
    let Some(a_cappella) = shared_audio("clips/vocadito_1_vocal.wav") else {
        return;
    };
    let a_cappella = a_cappella.display().to_string();
    let mut odd = vec![a_cappella.as_str()];
    let spoken = spoken_word(&dir);
    if let Some(spoken) = &spoken {
        odd.push(spoken.as_str());
    }
    for file in odd {
        let out = analyze(Some(file));
        let e = stderr(&out);
        assert!(
            e.contains("no backing") || e.contains("no singing"),
            "{file}: {e}"
        );
        assert!(
            (below(&out) - plain).abs() < 1e-9,
            "{file}: the level moved: {e}"
        );
    }

    // the song at 8 kHz and clipped: measured, said, and trusted less
    write_degraded_copies(&dir, &mixture);
    for (file, says, measure) in [
        ("8k.wav", "8000 Hz", "balance"),
        ("clipped.wav", "clipped", "loudness_range"),
    ] {
        let out = analyze(Some(&dir.s(file)));
        let e = stderr(&out);
        assert!(e.contains(says), "{file}: {e}");
        let c = &json(&out)["reference"]["measures"]["confidence"];
        let (got, was) = (
            c[measure].as_f64().unwrap(),
            clean_conf[measure].as_f64().unwrap(),
        );
        assert!(got < was, "{file}: {measure} confidence {got}, clean {was}");
        assert!(
            (below(&out) - plain).abs() <= clean_moved + 1.0,
            "{file}: {e}"
        );
    }

    // 3 s and silence: refused with the reason, nothing written
    write_short_and_silent(&dir, &vocal, rate);
    for (file, says) in [("3s.wav", "at least 5 s"), ("silence.wav", "silent")] {
        let out = analyze(Some(&dir.s(file)));
        assert!(!out.status.success(), "{file}");
        assert!(stderr(&out).contains(says), "{file}: {}", stderr(&out));
        assert!(out.stdout.is_empty(), "{file}");
    }
}
