//! `clap-run PLUGIN.clap`: loads a plug-in and runs it through what a session does — parameters
//! changed before and during playback, 2 s of a vocal with the backing on the sidechain in blocks
//! of varying size, a second activation at another rate, a state save and load — then a whole
//! Analyze & Mix pass (pressed, 16 s of a song with the transport playing, released, the
//! suggestion applied while the song plays on), and prints "ok". Used by the realtime test: a
//! plug-in built with nice-plug's allocation check aborts this process if its `process()`
//! allocates.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap_test_host::{Loaded, Transport};

fn tone(rate: f64, seconds: f64, f: f64) -> Vec<f32> {
    (0..(rate * seconds) as usize)
        .map(|i| (0.3 * (std::f64::consts::TAU * f * i as f64 / rate).sin()) as f32)
        .collect()
}

/// A "singer": a tone whose level moves in phrases, with breaths between.
fn phrases(rate: f64, seconds: f64) -> Vec<f32> {
    tone(rate, seconds, 330.0)
        .iter()
        .enumerate()
        .map(|(i, x)| {
            let t = i as f64 / rate;
            let phrase = (t * 0.5).fract();
            x * if phrase < 0.8 {
                0.4 + 0.6 * phrase
            } else {
                0.0
            } as f32
        })
        .collect()
}

fn main() {
    let path: PathBuf = std::env::args_os()
        .nth(1)
        .expect("usage: clap-run PLUGIN.clap")
        .into();
    let mut p = Loaded::load(&path).unwrap_or_else(|e| panic!("{e}"));
    let params = p.params();
    let trigger = params
        .iter()
        .find(|q| q.name == "Analyze & Mix")
        .map(|q| q.id)
        .expect("the Analyze & Mix parameter");
    // every mix parameter to a non-default value, and the ride (which follows the sidechain)
    // and the de-esser on
    let events: Vec<_> = params
        .iter()
        .filter(|q| q.id != trigger)
        .map(|q| match q.name.as_str() {
            "Ride" | "De-esser" => (q.id, q.max),
            _ => (q.id, q.min + 0.37 * (q.max - q.min)),
        })
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

    // Analyze & Mix, start to end
    let rate = 48_000.0;
    let vocal = phrases(rate, 16.0);
    let backing = tone(rate, 16.0, 110.0);
    let playing = Some(Transport {
        playing: true,
        tempo: 120.0,
    });
    let mut stream = p.stream(rate, 256).unwrap();
    let piece = 4800;
    for (i, at) in (0..vocal.len()).step_by(piece).enumerate() {
        let v = &vocal[at..at + piece];
        let b = &backing[at..at + piece];
        let set: &[_] = if i == 0 { &[(trigger, 1.0)] } else { &[] };
        stream.run([v, v], Some([b, b]), set, playing).unwrap();
        std::thread::sleep(Duration::from_millis(2));
    }
    let started = Instant::now();
    let mut k = 0;
    while stream.output.is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "no suggestion after 2 minutes"
        );
        let at = (k * piece) % (vocal.len() - piece);
        let set: &[_] = if k == 0 { &[(trigger, 0.0)] } else { &[] };
        let (v, b) = (&vocal[at..at + piece], &backing[at..at + piece]);
        let out = stream.run([v, v], Some([b, b]), set, playing).unwrap();
        assert!(out.iter().flatten().all(|x| x.is_finite()));
        k += 1;
        std::thread::sleep(Duration::from_millis(5));
    }
    // the new values glide in
    for _ in 0..10 {
        let (v, b) = (&vocal[..piece], &backing[..piece]);
        let out = stream.run([v, v], Some([b, b]), &[], playing).unwrap();
        assert!(out.iter().flatten().all(|x| x.is_finite()));
    }
    let sent = stream.output.len();
    drop(stream);
    println!("Analyze & Mix applied ({sent} events to the host)");
    println!("ok");
}
