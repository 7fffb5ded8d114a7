//! `clap-run PLUGIN.clap`: loads a plug-in and runs it through what a session does — parameters
//! changed before and during playback, 2 s of a vocal with the backing on the sidechain in blocks
//! of varying size, a state save and load, a second activation at another rate — then prints
//! "ok". Used by the realtime test: a plug-in built with nice-plug's allocation check aborts this
//! process if its `process()` allocates.

use std::path::PathBuf;

use clap_test_host::Loaded;

fn tone(rate: f64, seconds: f64, f: f64) -> Vec<f32> {
    (0..(rate * seconds) as usize)
        .map(|i| (0.3 * (std::f64::consts::TAU * f * i as f64 / rate).sin()) as f32)
        .collect()
}

fn main() {
    let path: PathBuf = std::env::args_os()
        .nth(1)
        .expect("usage: clap-run PLUGIN.clap")
        .into();
    let mut p = Loaded::load(&path).unwrap_or_else(|e| panic!("{e}"));
    let params = p.params();
    // every parameter to a non-default value, by text the plug-in writes
    let events: Vec<_> = params
        .iter()
        .map(|q| (q.id, q.min + 0.37 * (q.max - q.min)))
        .collect();
    for rate in [48_000.0, 44_100.0] {
        let vocal = [tone(rate, 2.0, 220.0), tone(rate, 2.0, 330.0)];
        let backing = [tone(rate, 2.0, 110.0), tone(rate, 2.0, 55.0)];
        for block in [64, 333, 1024] {
            let out = p
                .process(rate, block, &vocal, Some(&backing), &events)
                .unwrap_or_else(|e| panic!("{e}"));
            assert!(out.iter().flatten().all(|x| x.is_finite()));
        }
    }
    let state = p.save_state().unwrap();
    p.load_state(&state).unwrap();
    println!("ok");
}
