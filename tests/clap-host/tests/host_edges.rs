//! What hosts do that the other tests do not: `process()` with no frames, a block longer than the
//! maximum announced at activation, a host that never activates, a mono track with a stereo
//! sidechain and a stereo track with a mono one, the ends of the sample-rate range, a sidechain
//! connected for part of an Analyze & Mix pass, and a project saved while the analysis runs.
//! Each through the real bundle (`target/bundled/Vocal Automix.clap`; skipped loudly without it,
//! a failure with `AUTOMIX_REQUIRE_PLUGIN`).

use std::time::{Duration, Instant};

use clap_test_host::{ClapId, Loaded, Side, Transport, host_main_thread, release_bundle};
use engine::synth::{backing_track, vocal_line};

const PLAYING: Option<Transport> = Some(Transport {
    playing: true,
    tempo: 100.0,
});

fn finite(x: &[Vec<f32>]) -> bool {
    x.iter().flatten().all(|v| v.is_finite())
}

fn peak(x: &[Vec<f32>]) -> f32 {
    x.iter().flatten().fold(0.0, |m, v| m.max(v.abs()))
}

fn id_of(p: &mut Loaded, name: &str) -> ClapId {
    p.params()
        .iter()
        .find(|q| q.name == name)
        .unwrap_or_else(|| panic!("no parameter {name}"))
        .id
}

#[test]
fn no_frames_and_blocks_longer_than_announced_are_processed_as_usual() {
    let _main = host_main_thread();
    let Some(path) = release_bundle() else { return };
    let rate = 48_000.0;
    let vocal = vocal_line(rate as f32, 1.0, 0.5, 3);
    let backing = backing_track(rate as f32, 1.0, 100.0, 0.5, 4);
    let side = [backing[0].clone(), backing[1].clone()];

    // the reference: the same audio in blocks the host announced
    let mut a = Loaded::load(&path).unwrap();
    let mut reference = [vocal.clone(), vocal.clone()];
    {
        let mut s = a.stream(rate, 8192).unwrap();
        s.block(&mut reference, Side::Stereo(&side), &[], PLAYING)
            .unwrap();
    }

    // announced 256; given 0, then the whole second at once, then 0 again
    let mut b = Loaded::load(&path).unwrap();
    let mut s = b.stream(rate, 256).unwrap();
    let mut empty = [Vec::new(), Vec::new()];
    s.block(&mut empty, Side::Stereo(&side), &[], PLAYING)
        .unwrap();
    let mut long = [vocal.clone(), vocal.clone()];
    s.block(&mut long, Side::Stereo(&side), &[], PLAYING)
        .unwrap();
    s.block(&mut empty, Side::Absent, &[], PLAYING).unwrap();
    drop(s);
    assert!(finite(&long));
    assert!(peak(&long) > 0.01, "no output");
    let diff = long
        .iter()
        .flatten()
        .zip(reference.iter().flatten())
        .fold(0.0f32, |m, (x, y)| m.max((x - y).abs()));
    assert!(
        diff <= 1e-5 * peak(&reference),
        "a long block differs from the same audio in announced blocks by {diff}"
    );
}

#[test]
fn a_host_that_never_activates_gets_an_error_not_a_crash() {
    let _main = host_main_thread();
    let Some(path) = release_bundle() else { return };
    let mut p = Loaded::load(&path).unwrap();
    // CLAP_PROCESS_ERROR
    assert_eq!(p.process_without_activation(512), 0);
    // and after a proper activation and deactivation, the same
    drop(p.stream(48_000.0, 512).unwrap());
    assert_eq!(p.process_without_activation(512), 0);
    // the instance still works
    let mut s = p.stream(48_000.0, 512).unwrap();
    let mut x = [vec![0.1f32; 512], vec![0.1f32; 512]];
    s.block(&mut x, Side::Absent, &[], PLAYING).unwrap();
    assert!(finite(&x));
}

#[test]
fn mono_track_with_stereo_sidechain_and_stereo_track_with_mono_sidechain() {
    let _main = host_main_thread();
    let Some(path) = release_bundle() else { return };
    let rate = 44_100.0;
    let vocal = vocal_line(rate as f32, 0.5, 0.5, 5);
    let backing = backing_track(rate as f32, 0.5, 100.0, 0.5, 6);
    let side = [backing[0].clone(), backing[1].clone()];

    let mut mono = Loaded::load(&path).unwrap();
    mono.select_ports_config("Mono").unwrap();
    let mut s = mono.stream(rate, 1024).unwrap();
    let mut one = [vocal.clone()];
    s.block(&mut one, Side::Stereo(&side), &[], PLAYING)
        .unwrap();
    drop(s);
    assert!(finite(&one) && peak(&one) > 0.01);

    let mut stereo = Loaded::load(&path).unwrap();
    let mut s = stereo.stream(rate, 1024).unwrap();
    let mut two = [vocal.clone(), vocal.clone()];
    s.block(&mut two, Side::Mono(&side[0]), &[], PLAYING)
        .unwrap();
    drop(s);
    assert!(finite(&two) && peak(&two) > 0.01);
}

#[test]
fn the_ends_of_the_sample_rate_range_activate_and_process() {
    let _main = host_main_thread();
    let Some(path) = release_bundle() else { return };
    let mut p = Loaded::load(&path).unwrap();
    for rate in [1_000.0, 8_000.0, 384_000.0, 768_000.0] {
        let vocal = vocal_line(rate as f32, 0.25, 0.5, 7);
        let mut s = p
            .stream(rate, 4096)
            .unwrap_or_else(|e| panic!("{rate} Hz: {e}"));
        let mut x = [vocal.clone(), vocal.clone()];
        for chunk in 0..x[0].len().div_ceil(4096) {
            let at = chunk * 4096;
            let end = (at + 4096).min(vocal.len());
            let mut b = [x[0][at..end].to_vec(), x[1][at..end].to_vec()];
            s.block(&mut b, Side::Absent, &[], PLAYING).unwrap();
            x[0][at..end].copy_from_slice(&b[0]);
            x[1][at..end].copy_from_slice(&b[1]);
        }
        assert!(finite(&x), "{rate} Hz");
        assert!(peak(&x) > 0.01, "{rate} Hz: no output");
    }
    // beyond them the activation is refused (the VST3 wrapper refuses them at setupProcessing)
    for rate in [999.0, 1_234_567.8] {
        assert!(p.stream(rate, 4096).is_err(), "{rate} Hz was accepted");
    }
}

/// The host's bypass button: 20 ms after it is pressed the vocal comes out untouched (the chain
/// at −20 dB is gone); released, the chain fades back in; neither way a click.
#[test]
fn the_hosts_bypass_fades_to_the_untouched_vocal_and_back() {
    let _main = host_main_thread();
    let Some(path) = release_bundle() else { return };
    let mut p = Loaded::load(&path).unwrap();
    let (bypass, gain) = (id_of(&mut p, "Bypass"), id_of(&mut p, "Vocal Level"));
    let quieter = p.text_to_value(gain, "-20 dB").unwrap();
    let rate = 48_000.0;
    let piece = 4800;
    let tone: Vec<f32> = (0..8 * piece)
        .map(|i| 0.25 * (std::f32::consts::TAU * 220.0 * i as f32 / rate as f32).sin())
        .collect();
    let mut s = p.stream(rate, 480).unwrap();
    let mut out = Vec::new();
    for k in 0..8 {
        let set: &[(ClapId, f64)] = match k {
            0 => &[(gain, quieter)],
            3 => &[(bypass, 1.0)],
            5 => &[(bypass, 0.0)],
            _ => &[],
        };
        let x = &tone[k * piece..(k + 1) * piece];
        out.extend(s.run([x, x], None, set, PLAYING).unwrap()[0].clone());
    }
    let part = |k: usize| k * piece..(k + 1) * piece;
    let level = |x: &[f32]| x.iter().map(|v| v * v).sum::<f32>().sqrt();
    // before: the chain at −20 dB; bypassed (after the fade): the vocal itself, to the bit
    assert!(level(&out[part(2)]) < 0.4 * level(&tone[part(2)]));
    let fade = (0.02 * rate) as usize;
    assert_eq!(
        &out[3 * piece + fade..4 * piece],
        &tone[3 * piece + fade..4 * piece]
    );
    assert_eq!(&out[part(4)], &tone[part(4)]);
    // back: the chain again
    assert!(level(&out[part(7)]) < 0.4 * level(&tone[part(7)]));
    // no step larger than the tone's own
    let step = |x: &[f32]| x.windows(2).fold(0.0f32, |m, w| m.max((w[1] - w[0]).abs()));
    assert!(
        step(&out) <= 1.05 * step(&tone),
        "a click: {} vs the tone's {}",
        step(&out),
        step(&tone)
    );
}

/// Plays `seconds` of a song through `s` in blocks of 4800, the sidechain as `side(i)` says for
/// block `i`, pressing the trigger at the first block and releasing it after the last.
fn pass(
    s: &mut clap_test_host::Stream<'_>,
    trigger: ClapId,
    seconds: f32,
    side_for: impl Fn(usize) -> bool,
) {
    let rate = s.sample_rate() as f32;
    let vocal = vocal_line(rate, seconds, 0.5, 8);
    let backing = backing_track(rate, seconds, 100.0, 0.6, 9);
    for (i, at) in (0..vocal.len()).step_by(4800).enumerate() {
        let end = (at + 4800).min(vocal.len());
        let mut b = [vocal[at..end].to_vec(), vocal[at..end].to_vec()];
        let side = [backing[0][at..end].to_vec(), backing[1][at..end].to_vec()];
        let set: &[_] = if i == 0 { &[(trigger, 1.0)] } else { &[] };
        let side = if side_for(i) {
            Side::Stereo(&side)
        } else {
            Side::Absent
        };
        s.block(&mut b, side, set, PLAYING).unwrap();
        assert!(finite(&b));
        // ten times real time: the worker (which drains the half-second ring every 10 ms)
        // keeps up, as it does in a host playing in real time
        std::thread::sleep(Duration::from_millis(10));
    }
    let mut quiet = [vec![0.0; 480], vec![0.0; 480]];
    s.block(&mut quiet, Side::Absent, &[(trigger, 0.0)], PLAYING)
        .unwrap();
}

/// Keeps playing silence until the plug-in sends its suggestion; how long that took.
fn until_applied(s: &mut clap_test_host::Stream<'_>) -> Duration {
    let t = Instant::now();
    while s.output.is_empty() {
        assert!(t.elapsed() < Duration::from_secs(120), "no suggestion");
        let mut quiet = [vec![0.0; 480], vec![0.0; 480]];
        s.block(&mut quiet, Side::Absent, &[], PLAYING).unwrap();
        std::thread::sleep(Duration::from_millis(5));
    }
    t.elapsed()
}

#[test]
fn a_sidechain_connected_for_part_of_a_pass_still_mixes() {
    let _main = host_main_thread();
    let Some(path) = release_bundle() else { return };
    let mut p = Loaded::load(&path).unwrap();
    let trigger = id_of(&mut p, "Analyze & Mix");
    let mut s = p.stream(48_000.0, 4800).unwrap();
    // connected for the first half, then unplugged
    pass(&mut s, trigger, 14.0, |i| i < 70);
    until_applied(&mut s);
    assert!(s.output.len() >= 3, "{:?}", s.output);
}

#[test]
fn a_project_saved_during_the_analysis_saves_at_once_and_the_analysis_still_applies() {
    let _main = host_main_thread();
    let Some(path) = release_bundle() else { return };
    let mut p = Loaded::load(&path).unwrap();
    let trigger = id_of(&mut p, "Analyze & Mix");
    let mut s = p.stream(48_000.0, 4800).unwrap();
    pass(&mut s, trigger, 14.0, |_| true);
    // the analysis runs now: saving does not wait for it
    let t = Instant::now();
    let state = s.plugin().save_state().unwrap();
    assert!(
        t.elapsed() < Duration::from_millis(500),
        "{:?}",
        t.elapsed()
    );
    until_applied(&mut s);
    drop(s);
    // the project holds the trigger as it was when saved (released) and loads into a new
    // instance, which stays quiet
    let mut q = Loaded::load(&path).unwrap();
    q.load_state(&state).unwrap();
    let text = q
        .texts()
        .into_iter()
        .find(|(n, _)| n == "Analyze & Mix")
        .unwrap()
        .1;
    assert_eq!(text, "Off");
}
