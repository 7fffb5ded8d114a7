//! No command writes over one of its inputs (by any path: `./`, a symbolic link, a hard link),
//! nor two outputs to one file: refused before any work, with one line naming both, and the
//! input left byte for byte as it was.

use std::path::Path;
use std::process::{Command, Output};

use automix_tests::{TempDir, stderr, write_wav};
use engine::synth::{backing_track, vocal_line};

fn automix(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_automix"))
        .args(args)
        .output()
        .expect("automix runs")
}

/// A vocal, a backing and a parameter file in `dir`.
fn inputs(dir: &TempDir) -> (String, String, String) {
    let rate = 44_100;
    write_wav(
        &dir.path("take.wav"),
        rate,
        &[vocal_line(rate as f32, 3.0, 0.5, 1)],
    );
    write_wav(
        &dir.path("song.wav"),
        rate,
        &backing_track(rate as f32, 3.0, 120.0, 0.4, 2),
    );
    std::fs::write(dir.path("p.json"), r#"{"level_gain_db": -3.0}"#).unwrap();
    (dir.s("take.wav"), dir.s("song.wav"), dir.s("p.json"))
}

/// Runs `args`, expects a refusal naming `want` (both files' descriptions), and checks that
/// every file in `kept` is unchanged.
fn refused(args: &[&str], want: &[&str], kept: &[&str]) {
    let before: Vec<Vec<u8>> = kept.iter().map(|p| std::fs::read(p).unwrap()).collect();
    let out = automix(args);
    assert!(!out.status.success(), "{args:?} succeeded");
    let err = stderr(&out);
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    for w in want {
        assert!(err.contains(w), "{w} missing: {err}");
    }
    for (p, b) in kept.iter().zip(before) {
        assert_eq!(std::fs::read(p).unwrap(), b, "{p} changed");
    }
}

#[test]
fn mix_never_writes_over_its_inputs() {
    let dir = TempDir::new("no-overwrite");
    let (take, song, params) = inputs(&dir);
    let kept = [take.as_str(), song.as_str(), params.as_str()];
    // the mix over the vocal; the processed vocal over the backing, spelt with "./"
    refused(
        &["mix", "--vocal", &take, "--backing", &song, "-o", &take],
        &["-o", "--vocal"],
        &kept,
    );
    let dotted = format!("{}/./song.wav", dir.s(""));
    refused(
        &[
            "mix",
            "--vocal",
            &take,
            "--backing",
            &song,
            "-o",
            &dir.s("m.wav"),
            "--vocal-out",
            &dotted,
        ],
        &["--vocal-out", "--backing"],
        &kept,
    );
    assert!(
        !Path::new(&dir.s("m.wav")).exists(),
        "refused before any work"
    );
    // two outputs to one file
    refused(
        &[
            "mix",
            "--vocal",
            &take,
            "--backing",
            &song,
            "-o",
            &dir.s("x.wav"),
            "--vocal-out",
            &dir.s("x.wav"),
        ],
        &["-o", "--vocal-out", "same file"],
        &kept,
    );
}

#[test]
fn render_never_writes_over_its_inputs_under_any_name() {
    let dir = TempDir::new("no-overwrite-render");
    let (take, song, params) = inputs(&dir);
    let kept = [take.as_str(), song.as_str(), params.as_str()];
    // render over the vocal through a hard link and a symbolic link, over its parameter file
    std::fs::hard_link(&take, dir.path("hard.wav")).unwrap();
    refused(
        &[
            "render",
            "--vocal",
            &take,
            "--params",
            &params,
            "-o",
            &dir.s("hard.wav"),
        ],
        &["-o", "--vocal"],
        &kept,
    );
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(&take, dir.path("link.wav")).unwrap();
        refused(
            &[
                "render",
                "--vocal",
                &take,
                "--params",
                &params,
                "-o",
                &dir.s("link.wav"),
            ],
            &["-o", "--vocal"],
            &kept,
        );
    }
    refused(
        &[
            "render", "--vocal", &take, "--params", &params, "-o", &params,
        ],
        &["-o", "--params"],
        &kept,
    );
    refused(
        &[
            "render",
            "--vocal",
            &take,
            "--params",
            &params,
            "-o",
            &dir.s("v.wav"),
            "--backing",
            &song,
            "--mix-out",
            &song,
        ],
        &["--mix-out", "--backing"],
        &kept,
    );
    // and a correct call still works
    let out = automix(&[
        "render",
        "--vocal",
        &take,
        "--params",
        &params,
        "-o",
        &dir.s("ok.wav"),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn batch_into_its_own_folder_leaves_every_input_as_it_was() {
    let dir = TempDir::new("no-overwrite-batch");
    let rate = 44_100;
    write_wav(
        &dir.path("a_vocal.wav"),
        rate,
        &[vocal_line(rate as f32, 3.0, 0.5, 3)],
    );
    write_wav(
        &dir.path("a_backing.wav"),
        rate,
        &backing_track(rate as f32, 3.0, 120.0, 0.4, 4),
    );
    let names = ["a_vocal.wav", "a_backing.wav"];
    let before: Vec<Vec<u8>> = names
        .iter()
        .map(|n| std::fs::read(dir.path(n)).unwrap())
        .collect();
    let out = automix(&["batch", &dir.s(""), "--out-dir", &dir.s("")]);
    assert!(out.status.success(), "{}", stderr(&out));
    for (n, b) in names.iter().zip(before) {
        assert_eq!(std::fs::read(dir.path(n)).unwrap(), b, "{n} changed");
    }
    assert!(dir.path("a.mix.wav").exists());
}
