//! Realtime discipline, proven with nice-plug's `assert_process_allocs`: a debug build of the
//! plug-in with the check runs a whole session in `clap-run` (parameter changes, three block
//! sizes, two sample rates, the sidechain fed, state save and load) without aborting, and the
//! same build, told to allocate in `process()` (`AUTOMIX_TEST_ALLOCATE_IN_PROCESS`, read by
//! debug builds only), does abort — so the check is known to be armed in that very build.
//!
//! The build comes from `scripts/test.sh` (`target/alloc-check/checked.clap`); when absent the
//! test says so and skips, or fails with `AUTOMIX_REQUIRE_PLUGIN` set.

use std::path::{Path, PathBuf};
use std::process::Command;

fn build(name: &str) -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../target/alloc-check")
        .join(name);
    if p.exists() {
        return Some(p);
    }
    let why = format!(
        "{} is not built (scripts/test.sh builds the plug-in with assert_process_allocs)",
        p.display()
    );
    eprintln!("SKIPPED: {why}");
    if std::env::var_os("AUTOMIX_REQUIRE_PLUGIN").is_some() {
        panic!("AUTOMIX_REQUIRE_PLUGIN is set but {why}");
    }
    None
}

fn run(plugin: &Path, allocate: bool) -> std::process::Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_clap-run"));
    c.arg(plugin).env_remove("AUTOMIX_TEST_ALLOCATE_IN_PROCESS");
    if allocate {
        c.env("AUTOMIX_TEST_ALLOCATE_IN_PROCESS", "1");
    }
    c.output().expect("clap-run starts")
}

#[test]
fn process_never_allocates_and_the_check_would_catch_it() {
    let Some(checked) = build("checked.clap") else {
        return;
    };
    let ok = run(&checked, false);
    assert!(
        ok.status.success() && String::from_utf8_lossy(&ok.stdout).contains("ok"),
        "the checked build aborted or failed: {:?}\n{}",
        ok.status,
        String::from_utf8_lossy(&ok.stderr)
    );
    let caught = run(&checked, true);
    assert!(
        !caught.status.success(),
        "an allocation in process() went unnoticed: the check is not armed"
    );
    let err = String::from_utf8_lossy(&caught.stderr);
    println!(
        "the deliberate allocation: {:?}, {}",
        caught.status,
        err.lines().last().unwrap_or("")
    );
}
