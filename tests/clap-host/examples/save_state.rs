//! `cargo run -p clap-test-host --example save_state -- PLUGIN.clap OUT`: a fresh instance of the
//! plug-in, with [`FIXTURE_SETTINGS`] set through processing, saves its state to OUT. Made the
//! saved-state fixtures in `tests/fixtures/` from builds of earlier versions, which the tests
//! load into the current one.

use std::path::PathBuf;

use clap_test_host::{FIXTURE_SETTINGS, Loaded, host_main_thread};

fn main() -> Result<(), String> {
    let _main = host_main_thread();
    let args: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    let [plugin, out] = args.as_slice() else {
        return Err("usage: save_state PLUGIN.clap OUT".into());
    };
    let mut p = Loaded::load(plugin)?;
    p.set_by_text(FIXTURE_SETTINGS)?;
    let state = p.save_state()?;
    std::fs::write(out, &state).map_err(|e| format!("{}: {e}", out.display()))?;
    for (name, text) in p.texts() {
        println!("{name}\t{text}");
    }
    Ok(())
}
