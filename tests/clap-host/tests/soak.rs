//! The soak session (`clap-soak`, see its header for everything it does) on the plug-in built
//! with nice-plug's allocation check, with the editor opened and closed on an X display (Xvfb
//! when there is none): no allocation in `process()`, no panic, every output finite and below
//! +24 dBFS, the instances' threads gone when they are, resident memory flat (within 16 MB of
//! the first minute's, whatever the editor did).
//!
//! CI runs `AUTOMIX_SOAK_SECONDS` of audio (default 600, ten minutes; faster than real time);
//! the hour is `AUTOMIX_SOAK_SECONDS=3600 cargo test -p clap-test-host --test soak -- --nocapture`.

use std::path::Path;
use std::process::Command;

use clap_test_host::display;

#[test]
fn an_hour_like_session_of_random_automation_blocks_rates_passes_and_states() {
    let plugin =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/alloc-check/checked.clap");
    if !plugin.exists() {
        let why = format!(
            "{} is not built (scripts/test.sh builds it)",
            plugin.display()
        );
        eprintln!("SKIPPED: {why}");
        assert!(
            std::env::var_os("AUTOMIX_REQUIRE_PLUGIN").is_none(),
            "AUTOMIX_REQUIRE_PLUGIN is set but {why}"
        );
        return;
    }
    let Some(display) = display() else { return };
    let seconds = std::env::var("AUTOMIX_SOAK_SECONDS").unwrap_or_else(|_| "600".into());
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_secs());
    let o = Command::new(env!("CARGO_BIN_EXE_clap-soak"))
        .arg(&plugin)
        .arg(&seconds)
        .arg(seed.to_string())
        .env("DISPLAY", &display.name)
        .output()
        .expect("clap-soak starts");
    let out = String::from_utf8_lossy(&o.stdout);
    let err = String::from_utf8_lossy(&o.stderr);
    println!("{out}");
    // the display this test found is the soak's: a session without the editor tests less
    assert!(
        out.contains("editor on"),
        "the soak could not open a window on {}:\n{out}",
        display.name
    );
    assert!(
        o.status.success() && out.contains("\nok"),
        "the soak failed ({:?}; replay with seed {seed}):\n{out}\n{}",
        o.status,
        err.lines().rev().take(20).collect::<Vec<_>>().join("\n")
    );
}
