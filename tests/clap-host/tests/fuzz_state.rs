//! Fuzzing the plug-in's saved state through the real bundle (see `automix_tests::fuzz` for the
//! harness, its budget and how to replay a failure): random bytes, valid states with random byte
//! mutations, states of other versions (the first version's fixture, the version field changed,
//! parameters of the wrong kind, missing, unknown, out of range) → the state loads or is refused,
//! and either way every parameter holds a value within its range and the plug-in goes on
//! processing finite audio. A crash inside the plug-in aborts this binary: the failure then is
//! the test's exit status, and the input is the last file in `target/fuzz-failures/`.

use std::time::Duration;

use automix_tests::fuzz::{self, Target};
use clap_test_host::{Loaded, Side, host_main_thread, release_bundle};

const STATE: Target = Target {
    name: "plugin-state",
    time_limit: Duration::from_secs(2),
    memory_limit: 64 << 20,
};

/// Every parameter within its range, and a block of audio out finite.
fn sound(p: &mut Loaded) -> Result<(), String> {
    for q in p.params() {
        let v = p
            .value(q.id)
            .ok_or_else(|| format!("{} has no value", q.name))?;
        if !(q.min..=q.max).contains(&v) {
            return Err(format!("{} = {v}, outside {}..{}", q.name, q.min, q.max));
        }
    }
    Ok(())
}

fn process_ok(p: &mut Loaded) -> Result<(), String> {
    let mut s = p.stream(48_000.0, 256)?;
    let mut x = [vec![0.25f32; 256], vec![-0.25f32; 256]];
    s.block(&mut x, Side::Absent, &[], None)?;
    if x.iter().flatten().all(|v| v.is_finite()) {
        Ok(())
    } else {
        Err("non-finite output after loading".into())
    }
}

#[test]
fn any_saved_state_loads_what_is_valid_and_never_crashes() {
    let _main = host_main_thread();
    let Some(path) = release_bundle() else { return };
    let mut p = Loaded::load(&path).unwrap();
    // seeds: the defaults, every parameter moved, the first version's state, and as JSON values
    let defaults = p.save_state().unwrap();
    let moved: Vec<_> = p
        .params()
        .iter()
        .map(|q| (q.id, q.min + 0.61 * (q.max - q.min)))
        .collect();
    p.process(48_000.0, 64, &[vec![0.0; 64], vec![0.0; 64]], None, &moved)
        .unwrap();
    let moved = p.save_state().unwrap();
    let first = include_bytes!("fixtures/state-0.1.0-03f0f72").to_vec();
    let text = String::from_utf8_lossy(&moved).into_owned();
    let other_versions: Vec<Vec<u8>> = ["0.0.1", "9.9.9", "", "x"]
        .iter()
        .map(|v| {
            text.replacen("\"0.1.0\"", &format!("\"{v}\""), 1)
                .into_bytes()
        })
        .chain([
            text.replace("{\"f32\":", "{\"i32\":").into_bytes(),
            text.replace("{\"bool\":", "{\"f32\":").into_bytes(),
            text.replace("\"params\"", "\"parameters\"").into_bytes(),
        ])
        .collect();
    let mut seeds = vec![defaults, moved, first];
    seeds.extend(other_versions);

    let mut cases = 0u64;
    let outcome = fuzz::run(
        &STATE,
        |rng| match rng.below(10) {
            0 => (0..rng.below(4096)).map(|_| rng.next_u64() as u8).collect(),
            _ => {
                let seed = &seeds[rng.below(seeds.len())];
                fuzz::mutate(seed, rng)
            }
        },
        |bytes: &Vec<u8>| {
            // written first: a crash in the plug-in leaves it for the replay
            let _ = std::fs::create_dir_all(fuzz::failures_dir());
            let _ = std::fs::write(fuzz::failures_dir().join("plugin-state-last.bin"), bytes);
            let _ = p.load_state(bytes);
            sound(&mut p)?;
            cases += 1;
            // activating costs more than loading: every 16th case
            if cases.is_multiple_of(16) {
                process_ok(&mut p)?;
            }
            Ok(())
        },
        |bytes| Some(bytes.clone()),
    );
    let _ = std::fs::remove_file(fuzz::failures_dir().join("plugin-state-last.bin"));
    fuzz::assert_clean(&outcome);
}

#[test]
fn states_that_once_failed_now_load_or_are_refused() {
    let _main = host_main_thread();
    let Some(path) = release_bundle() else { return };
    for (name, bytes) in fuzz::regressions("plugin-state") {
        let mut p = Loaded::load(&path).unwrap();
        let _ = p.load_state(&bytes);
        sound(&mut p).unwrap_or_else(|e| panic!("{name}: {e}"));
        process_ok(&mut p).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}
