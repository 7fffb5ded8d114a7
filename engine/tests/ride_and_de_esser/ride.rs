//! The ride (issue 16), on synthetic signals whose answers are known: a vocal whose phrases are
//! 8 dB apart against a steady backing is evened out; the gain never moves faster than the set
//! speed and never clicks; it holds through silence and breaths; without a backing it is the
//! static level exactly; any block size gives the same output; a broken sidechain breaks nothing.

use crate::common::*;
use engine::analysis::balance_spread::{balance, blocks, std_dev, sung_windows};
use engine::analysis::loudness::Blocks;
use engine::dsp::chain::CONTROL;
use engine::dsp::vocal_ride::integrated_shift;
use engine::synth::{Rng, backing_track, vocal_line};
use engine::{MixParams, ParamId};

const SR: f32 = 48_000.0;
const SPEED: f32 = 12.0;
const SECTION_S: f32 = 6.0;

/// A sung line whose 6 s sections alternate 4 dB over and 4 dB under its level.
fn uneven_vocal(seconds: f32) -> Vec<f32> {
    let section = (SECTION_S * SR) as usize;
    vocal_line(SR, seconds, 0.3, 8)
        .into_iter()
        .enumerate()
        .map(|(i, x)| {
            x * if (i / section).is_multiple_of(2) {
                1.585
            } else {
                0.631
            }
        })
        .collect()
}

/// A steady backing, the same on both sides (so a mono measure hears it as the chain does).
fn steady_backing(seconds: f32) -> Vec<f32> {
    backing_track(SR, seconds, 100.0, 0.5, 3)[0].clone()
}

/// Ride on, every other stage out, holding the song's balance as the assistant sets it: the
/// integrated balance, moved so that riding leaves the vocal's integrated loudness where it was.
fn riding(vocal: &[f32], backing: &[f32]) -> MixParams {
    let mut p = only(&[], &[(ParamId::RideOn, 1.0), (ParamId::RideSpeed, SPEED)]);
    let integrated = |x: &[f32]| Blocks::of_mono(x, SR as u32).integrated().unwrap() as f32;
    let mut balance = integrated(vocal) - integrated(backing);
    for _ in 0..2 {
        balance -= integrated_shift(vocal, backing, SR, &p, balance).unwrap();
    }
    p.set(ParamId::RideBalance, balance);
    p
}

/// Renders in blocks of `block` against `backing` (None: no sidechain); the output and the ride's
/// gain after each block.
fn render(
    p: &MixParams,
    vocal: &[f32],
    backing: Option<&[f32]>,
    block: usize,
) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    let mut c = chain(p, SR);
    let (mut l, mut r) = (vocal.to_vec(), vec![0.0; vocal.len()]);
    let mut gains = vec![];
    for start in (0..vocal.len()).step_by(block) {
        let end = (start + block).min(vocal.len());
        let side = backing.map(|b| [&b[start..end], &b[start..end]]);
        c.process_mono_with(&mut l[start..end], &mut r[start..end], side);
        gains.push(c.ride_gain_db());
    }
    (l, r, gains)
}

fn spread(out: &[f32], dry: &[f32], backing: &[f32]) -> f64 {
    let rate = SR as u32;
    let b = blocks(&[backing.to_vec()], rate);
    let sung = sung_windows(&blocks(&[dry.to_vec()], rate), &b);
    std_dev(&balance(&blocks(&[out.to_vec()], rate), &b, &sung)).unwrap()
}

#[test]
fn phrases_8_db_apart_are_evened_out() {
    let vocal = uneven_vocal(36.0);
    let backing = steady_backing(36.0);
    let p = riding(&vocal, &backing);
    let mut off = p.clone();
    off.set(ParamId::RideOn, 0.0);
    let (still, _, _) = render(&off, &vocal, Some(&backing), 512);
    let (ridden, _, gains) = render(&p, &vocal, Some(&backing), 512);
    let (a, b) = (
        spread(&still, &vocal, &backing),
        spread(&ridden, &vocal, &backing),
    );
    // what the line's own notes and rests leave, with no sections at all
    let even = vocal_line(SR, 36.0, 0.3, 8);
    let floor = spread(&even, &even, &backing);
    println!(
        "3 s balance spread: static {a:.2} LU, ridden {b:.2} LU, the line without sections {floor:.2} LU"
    );
    assert!(
        b - floor < 0.4 * (a - floor),
        "static {a:.2} LU, ridden {b:.2} LU, floor {floor:.2} LU"
    );
    // over each section's second half the ride sits lower in the loud sections than in the
    // soft ones, by most of the 8 dB between them (the notes' own loudness moves each mean)
    let per_s = SR as usize / 512;
    let section = (SECTION_S as usize) * per_s;
    let means: Vec<f32> = (0..6)
        .map(|k| {
            let half = &gains[k * section + section / 2..(k + 1) * section];
            half.iter().sum::<f32>() / half.len() as f32
        })
        .collect();
    println!("ride per section: {means:+.2?} dB");
    for k in 0..5usize {
        let (loud, soft) = if k.is_multiple_of(2) {
            (means[k], means[k + 1])
        } else {
            (means[k + 1], means[k])
        };
        assert!(soft - loud > 5.0, "sections {k}, {}: {means:?}", k + 1);
    }
}

#[test]
fn the_gain_moves_no_faster_than_the_speed_and_never_clicks() {
    let vocal = uneven_vocal(12.0);
    let backing = steady_backing(12.0);
    for speed in [3.0, 12.0, 24.0] {
        let mut p = riding(&vocal, &backing);
        p.set(ParamId::RideSpeed, speed);
        let (out, _, gains) = render(&p, &vocal, Some(&backing), CONTROL);
        let per_period = speed * CONTROL as f32 / SR;
        let fastest = gains
            .windows(2)
            .map(|w| (w[1] - w[0]).abs())
            .fold(0.0f32, f32::max);
        assert!(
            fastest <= per_period * 1.0001,
            "{speed} dB/s: {fastest} dB in a period"
        );
        assert!(
            fastest > 0.5 * per_period,
            "{speed} dB/s: the ride hardly moved"
        );
        // a click is a jump in the gain from one sample to the next: the ridden output's
        // second difference stays that of the signal itself
        let mut still = p.clone();
        still.set(ParamId::RideOn, 0.0);
        let (dry, _, _) = render(&still, &vocal, Some(&backing), CONTROL);
        let bend = |x: &[f32], i: usize| (x[i] - 2.0 * x[i - 1] + x[i - 2]).abs();
        let worst = (2..out.len())
            .map(|i| {
                let g = 10f32.powf(gains[(i / CONTROL).saturating_sub(1)] / 20.0) * 2.0;
                bend(&out, i) - g * bend(&dry, i)
            })
            .fold(f32::MIN, f32::max);
        assert!(
            worst < 1e-4,
            "{speed} dB/s: a step of {worst} in the output's curvature"
        );
    }
}

#[test]
fn it_holds_through_silence_and_breaths() {
    // phrase, 1.5 s of silence, a breath 30 dB under the phrase, silence, phrase
    let phrase = vocal_line(SR, 3.0, 0.3, 2);
    let rms = (energy(&phrase) / phrase.len() as f64).sqrt() as f32;
    let mut rng = Rng::new(7);
    let breath: Vec<f32> = (0..(0.4 * SR) as usize)
        .map(|i| {
            let t = i as f32 / (0.4 * SR);
            rng.bipolar() * rms * 0.0316 * 1.7 * (std::f32::consts::PI * t).sin()
        })
        .collect();
    let gap = vec![0.0; (1.5 * SR) as usize];
    let vocal: Vec<f32> = [&phrase, &gap, &breath, &gap, &phrase]
        .into_iter()
        .flatten()
        .copied()
        .collect();
    let backing = steady_backing(vocal.len() as f32 / SR + 0.1);
    let mut p = riding(&vocal, &backing);
    // ask for 3 dB more than it hears, so the ride is away from 0 dB when the phrase ends
    p.set(ParamId::RideBalance, p.get(ParamId::RideBalance) + 3.0);
    let (_, _, gains) = render(&p, &vocal, Some(&backing[..vocal.len()]), CONTROL);
    let at = |s: f32| gains[(s * SR) as usize / CONTROL];
    // from 250 ms after the phrase to the next phrase: still
    let (from, to) = (3.25, 3.0 + 1.5 + 0.4 + 1.5);
    let held: Vec<f32> = (0..100)
        .map(|k| at(from + (to - from) * k as f32 / 100.0))
        .collect();
    let moved = held.iter().fold(0.0f32, |m, g| m.max((g - held[0]).abs()));
    println!(
        "ride at the phrase's end {:+.2} dB, moved {moved:.3} dB over silence and breath",
        held[0]
    );
    assert!(held[0] > 1.5, "the ride had not risen: {:+.2} dB", held[0]);
    assert!(
        moved < 0.1,
        "the ride moved {moved:.3} dB where nobody sang"
    );
}

#[test]
fn without_a_backing_the_ride_is_the_static_level() {
    let vocal = uneven_vocal(6.0);
    let backing = steady_backing(6.0);
    let p = riding(&vocal, &backing);
    let mut off = p.clone();
    off.set(ParamId::RideOn, 0.0);
    let (a, ar, gains) = render(&p, &vocal, None, 512);
    let (b, br, _) = render(&off, &vocal, None, 512);
    assert!(gains.iter().all(|g| *g == 0.0));
    assert_eq!((a, ar), (b, br), "no sidechain: ride on sounds as ride off");
    // a silent sidechain (a host that passes zeros) holds it at 0 dB as well
    let silence = vec![0.0; vocal.len()];
    let (_, _, gains) = render(&p, &vocal, Some(&silence), 512);
    assert!(gains.iter().all(|g| *g == 0.0));
}

#[test]
fn any_block_size_gives_the_same_ride_and_de_essing() {
    let vocal = uneven_vocal(6.0);
    let backing = steady_backing(6.0);
    let mut p = riding(&vocal, &backing);
    for (id, v) in [
        (ParamId::EqBypass, 0.0),
        (ParamId::EqGain4k, 6.0),
        (ParamId::DeessOn, 1.0),
        (ParamId::DeessThreshold, -40.0),
        (ParamId::CompBypass, 0.0),
        (ParamId::CompThreshold, -25.0),
        (ParamId::ReverbBypass, 0.0),
    ] {
        p.set(id, v);
    }
    let (rl, rr, _) = render(&p, &vocal, Some(&backing), 1);
    for block in [7, 64, 517, 8192] {
        let (l, r, _) = render(&p, &vocal, Some(&backing), block);
        assert!(l == rl && r == rr, "blocks of {block} differ");
    }
}

#[test]
fn a_broken_sidechain_breaks_nothing() {
    let vocal = uneven_vocal(3.0);
    let mut backing = steady_backing(3.0);
    for (i, x) in backing.iter_mut().enumerate() {
        match i % 1000 {
            0 => *x = f32::NAN,
            1 => *x = f32::INFINITY,
            2 => *x = 1e30,
            _ => {}
        }
    }
    let p = riding(&vocal, &steady_backing(3.0));
    let (l, r, gains) = render(&p, &vocal, Some(&backing), 256);
    assert!(l.iter().chain(&r).all(|x| x.is_finite()));
    assert!(gains.iter().all(|g| g.is_finite() && g.abs() <= 6.0));
    // a sidechain shorter than the block is no sidechain
    let mut c = chain(&p, SR);
    let (mut a, mut b) = (vocal[..512].to_vec(), vec![0.0; 512]);
    c.process_mono_with(&mut a, &mut b, Some([&backing[..100], &backing[..100]]));
    assert!(a.iter().all(|x| x.is_finite()));
}
