//! The VST3 bundle in a VST3 host of our own (`automix_tests::vst3_host`), making the calls that
//! careless hosts make and the Python hosts never do: audio before `setupProcessing` and before
//! `setActive`, a block longer than the maximum announced, no sidechain bus at all, and a
//! one-channel sidechain. Each must be answered without a crash, and audio the way the CLAP
//! wrapper answers it (`tests/clap-host/tests/host_edges.rs`).
//!
//! Needs the release bundle (`cargo xtask bundle vocal_automix --release`, which
//! `scripts/test.sh` runs); without it the test says so and skips, or fails when
//! `AUTOMIX_REQUIRE_PLUGIN` is set (CI sets it).

use std::path::PathBuf;

use automix_tests::vst3_host::{Sidechain, Vst3Plugin};
use engine::synth::{backing_track, vocal_line};
use vst3::Steinberg::kResultOk;

const RATE: f64 = 48_000.0;

fn bundle() -> Option<PathBuf> {
    automix_tests::release_bundle("vst3")
}

/// An instance set up for `max_block` at 48 kHz, active and processing.
fn running(max_block: i32) -> Vst3Plugin {
    let p = Vst3Plugin::load(&bundle().expect("checked by the caller")).unwrap();
    assert_eq!(p.setup(RATE, max_block), kResultOk);
    assert_eq!(p.set_active(true), kResultOk);
    assert_eq!(p.set_processing(true), kResultOk);
    p
}

fn song(seconds: f32) -> ([Vec<f32>; 2], [Vec<f32>; 2]) {
    let v = vocal_line(RATE as f32, seconds, 0.5, 3);
    (
        [v.clone(), v],
        backing_track(RATE as f32, seconds, 100.0, 0.6, 4),
    )
}

#[test]
fn audio_before_setup_or_activation_is_refused_without_a_crash() {
    let Some(path) = bundle() else { return };
    let p = Vst3Plugin::load(&path).unwrap();
    let (vocal, _) = song(0.1);
    let mut x = vocal.clone();
    assert_ne!(
        p.process(&mut x, Sidechain::Absent),
        kResultOk,
        "before setupProcessing"
    );
    assert_eq!(p.setup(RATE, 512), kResultOk);
    assert_ne!(
        p.process(&mut x, Sidechain::Absent),
        kResultOk,
        "before setActive"
    );
    assert_eq!(p.set_active(true), kResultOk);
    assert_eq!(p.set_processing(true), kResultOk);
    let mut x = [vocal[0][..512].to_vec(), vocal[1][..512].to_vec()];
    assert_eq!(p.process(&mut x, Sidechain::Absent), kResultOk);
    assert!(x.iter().flatten().all(|v| v.is_finite()));
    assert_eq!(p.set_processing(false), kResultOk);
    assert_eq!(p.set_active(false), kResultOk);
    assert_ne!(
        p.process(&mut x, Sidechain::Absent),
        kResultOk,
        "after setActive(false)"
    );
    // and a rate the chain does not run at is refused where the host can still choose
    assert_ne!(p.setup(1_234_567.8, 512), kResultOk);
}

#[test]
fn a_block_longer_than_announced_equals_the_same_audio_in_announced_blocks() {
    if bundle().is_none() {
        return;
    }
    let (vocal, backing) = song(0.5);
    let frames = 16 * 256;
    let cut =
        |x: &[Vec<f32>; 2], r: std::ops::Range<usize>| [x[0][r.clone()].to_vec(), x[1][r].to_vec()];
    let long = running(256);
    let mut whole = cut(&vocal, 0..frames);
    assert_eq!(
        long.process(&mut whole, Sidechain::Stereo(&cut(&backing, 0..frames))),
        kResultOk
    );
    let short = running(256);
    let mut pieces: [Vec<f32>; 2] = [Vec::new(), Vec::new()];
    for at in (0..frames).step_by(256) {
        let mut x = cut(&vocal, at..at + 256);
        assert_eq!(
            short.process(&mut x, Sidechain::Stereo(&cut(&backing, at..at + 256))),
            kResultOk
        );
        pieces[0].extend(&x[0]);
        pieces[1].extend(&x[1]);
    }
    assert!(whole.iter().flatten().all(|v| v.is_finite()));
    assert_eq!(
        whole, pieces,
        "16 announced blocks in one call differ from 16 calls"
    );
}

#[test]
fn no_sidechain_bus_is_silence_and_a_one_channel_one_is_heard_on_both_sides() {
    if bundle().is_none() {
        return;
    }
    let (vocal, backing) = song(2.0);
    let frames = vocal[0].len();
    // the ride follows the sidechain, so what the plug-in hears there changes the vocal
    let render = |side: Sidechain| {
        let p = running(frames as i32);
        let ride = p.param("Ride").expect("a Ride parameter");
        assert_eq!(p.set_processing(false), kResultOk);
        assert_eq!(p.set_param(ride, 1.0), kResultOk);
        assert_eq!(p.set_processing(true), kResultOk);
        let mut x = vocal.clone();
        assert_eq!(p.process(&mut x, side), kResultOk);
        assert!(x.iter().flatten().all(|v| v.is_finite()));
        x
    };
    let silence = [vec![0.0; frames], vec![0.0; frames]];
    assert_eq!(
        render(Sidechain::Absent),
        render(Sidechain::Stereo(&silence))
    );
    let both = [backing[0].clone(), backing[0].clone()];
    let mono = render(Sidechain::Mono(&backing[0]));
    assert_eq!(mono, render(Sidechain::Stereo(&both)));
    assert_ne!(
        mono,
        render(Sidechain::Stereo(&silence)),
        "the ride did not hear the backing"
    );
}
