//! `automix dataset` end to end: a folder in MIR-1K's clip layout and one in MUSDB's stem layout
//! give feature blocks and targets whose sizes agree with each other and with `meta.json`, random
//! EQs of 4 bands within ±15 dB as targets, splits that keep every singer or song whole, and the
//! same bytes again for the same seed. Then MUSDB's real stems from `../shared/audio`.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use automix_tests::{TempDir, ebu_loudness, shared_audio, stderr, write_wav};
use engine::synth::{backing_track, vocal_line};

fn dataset(input: &Path, out: &Path, extra: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_automix"))
        .arg("dataset")
        .arg(input)
        .arg("--out")
        .arg(out)
        .args(extra)
        .output()
        .unwrap()
}

fn floats(path: &Path) -> Vec<f32> {
    std::fs::read(path)
        .unwrap()
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

/// Three MIR-1K singers with two clips each and two MUSDB songs; the MUSDB stems as written.
fn stems(dir: &TempDir) -> (std::path::PathBuf, Vec<[Vec<Vec<f32>>; 2]>) {
    let input = dir.path("stems");
    // MIR-1K: 16 kHz, backing left, vocal right
    std::fs::create_dir_all(input.join("mir1k")).unwrap();
    for (k, singer) in ["ann", "bob", "cid"].iter().enumerate() {
        for clip in 1..=2 {
            let seed = (10 * k + clip) as u64;
            let vocal = vocal_line(16_000.0, 6.0, 0.4, seed);
            let [backing, _] = backing_track(16_000.0, 6.0, 100.0, 0.4, seed + 100);
            let path = input.join(format!("mir1k/{singer}_{}_0{clip}.wav", k + 1));
            write_wav(&path, 16_000, &[backing, vocal]);
        }
    }
    // MUSDB: a song folder with its stems (the mixture beside them is not a stem)
    let mut songs = Vec::new();
    for (k, song) in ["Song A", "Song B"].iter().enumerate() {
        let d = input.join("musdb").join(song);
        std::fs::create_dir_all(&d).unwrap();
        let v = vocal_line(44_100.0, 5.0, 0.2 + 0.3 * k as f32, 3 + k as u64);
        let [bl, br] = backing_track(44_100.0, 5.0, 120.0, 0.3, 7);
        write_wav(&d.join("vocals.wav"), 44_100, &[v.clone(), v.clone()]);
        write_wav(&d.join("drums.wav"), 44_100, &[bl.clone(), br.clone()]);
        write_wav(&d.join("bass.wav"), 44_100, &[br.clone(), bl.clone()]);
        let backing: Vec<Vec<f32>> = vec![
            bl.iter().zip(&br).map(|(a, b)| a + b).collect(),
            br.iter().zip(&bl).map(|(a, b)| a + b).collect(),
        ];
        songs.push([vec![v.clone(), v], backing]);
    }
    std::fs::write(input.join("notes.txt"), "not audio").unwrap();
    (input, songs)
}

#[test]
fn a_dataset_of_both_layouts_is_consistent_split_by_singer_and_song_and_reproducible() {
    let dir = TempDir::new("dataset");
    let (input, _) = stems(&dir);
    let out = dir.path("data");
    let o = dataset(&input, &out, &["--draws", "3", "--seed", "5"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let eq = out.join("eq");
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(eq.join("meta.json")).unwrap()).unwrap();
    assert_eq!(meta["sources"], 8);
    assert_eq!(meta["input_shape"], serde_json::json!([2, 128, 64]));
    let counted: u64 = ["train", "validation", "test"]
        .iter()
        .map(|s| meta["examples"][s].as_u64().unwrap())
        .sum();
    let features = floats(&eq.join("features.f32"));
    let targets = floats(&eq.join("targets.f32"));
    let index = std::fs::read_to_string(eq.join("blocks.tsv")).unwrap();
    let rows: Vec<Vec<&str>> = index
        .lines()
        .skip(1)
        .map(|l| l.split('\t').collect())
        .collect();
    let n = rows.len();
    assert!(n > 0);
    assert_eq!(n as u64, counted);
    assert_eq!(features.len(), n * 2 * 128 * 64);
    assert_eq!(targets.len(), n * 9);
    assert!(
        features
            .iter()
            .all(|x| x.is_finite() && (0.0..=1.0).contains(x))
    );
    for t in targets.chunks_exact(9) {
        assert_eq!(t.iter().filter(|g| **g != 0.0).count(), 4, "{t:?}");
        assert!(t.iter().all(|g| g.abs() <= 15.0));
    }
    // every draw of a source has its own EQ, shared by all of its blocks
    let mut eq_of: BTreeMap<(&str, &str), &[f32]> = BTreeMap::new();
    for (row, t) in rows.iter().zip(targets.chunks_exact(9)) {
        let seen = eq_of.entry((row[1], row[4])).or_insert(t);
        assert_eq!(*seen, t);
    }
    assert_eq!(eq_of.len(), 8 * 3);
    // a group is in one split only
    let mut split_of: BTreeMap<&str, &str> = BTreeMap::new();
    for row in &rows {
        assert_eq!(
            *split_of.entry(row[2]).or_insert(row[3]),
            row[3],
            "{}",
            row[2]
        );
    }
    assert_eq!(
        split_of.len(),
        5,
        "three singers and two songs: {split_of:?}"
    );

    let again = dir.path("again");
    assert!(
        dataset(&input, &again, &["--draws", "3", "--seed", "5"])
            .status
            .success()
    );
    for f in ["features.f32", "targets.f32", "blocks.tsv", "meta.json"] {
        assert_eq!(
            std::fs::read(eq.join(f)).unwrap(),
            std::fs::read(again.join("eq").join(f)).unwrap(),
            "{f}"
        );
    }
}

#[test]
fn bad_input_says_what_is_wrong() {
    let dir = TempDir::new("dataset-bad");
    let o = dataset(&dir.path("nowhere"), &dir.path("out"), &[]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("not a folder"), "{}", stderr(&o));
    std::fs::create_dir_all(dir.path("empty")).unwrap();
    let o = dataset(&dir.path("empty"), &dir.path("out"), &[]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("no sources"), "{}", stderr(&o));
    let o = dataset(
        &dir.path("empty"),
        &dir.path("out"),
        &["--validation", "0.6", "--test", "0.5"],
    );
    assert!(!o.status.success());
    assert!(stderr(&o).contains("nothing to train on"), "{}", stderr(&o));
}

#[test]
fn the_musdb_preview_stems_make_examples() {
    let Some(vocals) = shared_audio("musdb-preview/vocals.wav") else {
        return;
    };
    let dir = TempDir::new("dataset-musdb");
    let o = dataset(
        vocals.parent().unwrap(),
        &dir.path("out"),
        &["--draws", "2"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path("out/eq/meta.json")).unwrap())
            .unwrap();
    assert_eq!(meta["sources"], 1);
    assert_eq!(meta["licences"][0]["real_mixing_decisions"], true);
    // 6.8 s of singing and playing: a few blocks per draw
    let train = meta["examples"]["train"].as_u64().unwrap();
    assert!(train >= 4, "{meta}");
}

#[test]
fn level_targets_are_the_measured_balance_of_stems_that_carry_a_mixing_decision() {
    let dir = TempDir::new("dataset-level");
    let (input, songs) = stems(&dir);
    let o = dataset(&input, &dir.path("data"), &["--task", "level"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("6 MIR-1K clips left out"),
        "{}",
        stderr(&o)
    );
    let level = dir.path("data/level");
    let index = std::fs::read_to_string(level.join("blocks.tsv")).unwrap();
    let targets = floats(&level.join("targets.f32"));
    let rows: Vec<&str> = index.lines().skip(1).collect();
    assert_eq!(rows.len(), targets.len());
    for (k, song) in ["musdb/Song A", "musdb/Song B"].iter().enumerate() {
        // measured independently of the engine, by the ebur128 crate
        let (v, _) = ebu_loudness(44_100, &songs[k][0]);
        let (b, _) = ebu_loudness(44_100, &songs[k][1]);
        let mine: Vec<f32> = rows
            .iter()
            .zip(&targets)
            .filter(|(r, _)| r.split('\t').nth(1) == Some(song))
            .map(|(_, t)| *t)
            .collect();
        assert!(!mine.is_empty(), "{song}");
        for t in mine {
            assert!(
                ((t as f64) - (v - b)).abs() < 0.05,
                "{song}: {t} vs {}",
                v - b
            );
        }
        assert!(rows.iter().all(|r| r.ends_with("\ttrue")));
    }
    // with the clips taken anyway, MIR-1K's rows say they are no mixing decision
    let o = dataset(
        &input,
        &dir.path("all"),
        &["--task", "level", "--include-unmixed"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let index = std::fs::read_to_string(dir.path("all/level/blocks.tsv")).unwrap();
    assert!(
        index
            .lines()
            .any(|l| l.contains("mir1k/") && l.ends_with("\tfalse"))
    );
}

#[test]
fn reverb_targets_are_the_ten_settings_drawn_within_their_ranges() {
    let dir = TempDir::new("dataset-reverb");
    let (input, _) = stems(&dir);
    let o = dataset(
        &input,
        &dir.path("data"),
        &["--task", "reverb", "--draws", "2"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let reverb = dir.path("data/reverb");
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(reverb.join("meta.json")).unwrap()).unwrap();
    let outputs = meta["outputs"].as_array().unwrap();
    assert_eq!(outputs.len(), 10);
    let targets = floats(&reverb.join("targets.f32"));
    assert!(!targets.is_empty());
    for row in targets.chunks_exact(10) {
        for (t, o) in row.iter().zip(outputs) {
            let (lo, hi) = (o["min"].as_f64().unwrap(), o["max"].as_f64().unwrap());
            assert!((lo..=hi).contains(&(*t as f64)), "{}: {t}", o["name"]);
        }
    }
    assert_eq!(outputs[1]["name"], "reverb_time_s");
}
