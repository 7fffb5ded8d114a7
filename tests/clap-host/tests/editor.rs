//! The editor in a real host window: `clap-editor` (this package's binary, a CLAP host on
//! clack-host with an X11 parent window) opens the built bundle's editor at 100 % and 200 %,
//! resizes it, runs Analyze & Mix with it open, checks the window shows a drawn editor, and
//! closes it. The same run with the allocation-checked debug build (when `scripts/test.sh` made
//! it) proves the editor's meters and A/B path in `process()` do not allocate.
//!
//! Needs an X server: `DISPLAY`, or Xvfb, which the test starts itself. Without either it says
//! so loudly and skips; `AUTOMIX_REQUIRE_PLUGIN` (CI) makes that a failure.

use std::path::{Path, PathBuf};
use std::process::Command;

use automix_tests::TempDir;
use clap_test_host::{Display, display};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn skip(why: &str) {
    eprintln!("SKIPPED: {why}");
    if std::env::var_os("AUTOMIX_REQUIRE_PLUGIN").is_some() {
        panic!("AUTOMIX_REQUIRE_PLUGIN is set but {why}");
    }
}

fn run_editor(display: &Display, plugin: &Path, scale: &str, out: &Path) -> String {
    let o = Command::new(env!("CARGO_BIN_EXE_clap-editor"))
        .arg(plugin)
        .arg(out)
        .arg(scale)
        .env("DISPLAY", &display.name)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        o.status.success(),
        "clap-editor {} at {scale}: {:?}\n{stdout}\n{}",
        plugin.display(),
        o.status,
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(stdout.ends_with("ok\n"), "{stdout}");
    stdout
}

/// The editor's size as clap-editor reports it when it opens.
fn opened_at(stdout: &str) -> (u32, u32) {
    let line = stdout
        .lines()
        .find(|l| l.starts_with("editor open at"))
        .unwrap();
    let size = line.split_whitespace().nth(3).unwrap();
    let (w, h) = size.split_once('x').unwrap();
    (w.parse().unwrap(), h.parse().unwrap())
}

/// One test, one X server: the editor at 100 % and 200 % from the release bundle, then the
/// allocation-checked build's editor session.
#[test]
fn the_editor_opens_in_a_host_window_at_100_and_200_percent_mixes_while_open_and_does_not_allocate()
{
    let bundle = workspace().join("target/bundled/Vocal Automix.clap");
    if !bundle.exists() {
        return skip(&format!(
            "{} is not built (cargo xtask bundle vocal_automix --release)",
            bundle.display()
        ));
    }
    let Some(display) = display() else { return };
    let dir = TempDir::new("editor");
    let one = run_editor(&display, &bundle, "1", &dir.path("one.png"));
    let two = run_editor(&display, &bundle, "2", &dir.path("two.png"));
    let (a, b) = (opened_at(&one), opened_at(&two));
    assert_eq!((b.0, b.1), (2 * a.0, 2 * a.1), "200 % is twice the pixels");
    assert!(dir.path("two.png").metadata().unwrap().len() > 10_000);

    // the meters and A/B measuring run in process() while the editor is open
    let checked = workspace().join("target/alloc-check/checked.clap");
    if !checked.exists() {
        return skip(&format!(
            "{} is not built (scripts/test.sh builds it)",
            checked.display()
        ));
    }
    run_editor(&display, &checked, "1", &dir.path("checked.png"));
}
