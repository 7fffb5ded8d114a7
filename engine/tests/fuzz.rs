//! Fuzzing the engine (see `automix_tests::fuzz` for the harness, its budget and how to replay a
//! failure):
//!
//! - `VocalChain`: random sequences of parameter changes (glided and immediate), blocks of 0 to
//!   8192 frames, stereo and mono, resets and re-preparations at rates across the whole range, with
//!   bursts of NaN, ±∞, subnormals and ±1e30 in the input → every output sample finite and no
//!   louder than the loudest input so far (clamped, as the chain clamps it, at +60 dBFS) plus the
//!   +80 dB the most extreme settings give;
//! - `analysis::analyze` on random short signals (silence, noise, tones, clicks, DC, clipping,
//!   NaN), with or without a backing, at random rates → a suggestion whose every value is within
//!   its parameter's range, or an error that says something.

use std::time::Duration;

use automix_tests::fuzz::{self, CountingAlloc, Rng, Target};
use engine::analysis::{AnalysisInput, Engine, Track, analyze};
use engine::params::{Conformed, PARAMS};
use engine::{MixParams, ParamId, VocalChain};

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

const CHAIN: Target = Target {
    name: "chain",
    time_limit: Duration::from_secs(5),
    memory_limit: 256 << 20,
};

const ANALYZE: Target = Target {
    name: "analyze",
    time_limit: Duration::from_secs(10),
    memory_limit: 512 << 20,
};

/// The most gain the chain gives at its most extreme settings, +80 dB (+20 dB level, +24 dB
/// make-up, EQ boosts; `chain.rs` checks a 0.9 peak stays under 1e4 there): an output beyond
/// the loudest input so far (at least full scale; the chain clamps input at ±1000, +60 dBFS)
/// times this is a filter or a feedback loop running away.
const MOST_GAIN: f32 = 1e4;
const INPUT_CLAMP: f32 = 1000.0;

#[derive(Debug)]
enum Op {
    Prepare(f32),
    Reset,
    Set(Vec<(usize, f32)>, bool),
    Stereo(Vec<f32>, Vec<f32>),
    Mono(Vec<f32>),
}

fn random_params(rng: &mut Rng) -> Vec<(usize, f32)> {
    (0..1 + rng.below(PARAMS.len()))
        .map(|_| {
            let i = rng.below(PARAMS.len());
            let p = &PARAMS[i];
            let v = match rng.below(6) {
                0 => p.min,
                1 => p.max,
                2 => rng.nasty_sample() * 1e3,
                _ => rng.range(p.min as f64, p.max as f64) as f32,
            };
            (i, v)
        })
        .collect()
}

fn random_signal(rng: &mut Rng, n: usize) -> Vec<f32> {
    let kind = rng.below(5);
    let f = rng.range(0.001, 0.5) as f32;
    let mut x: Vec<f32> = (0..n)
        .map(|i| match kind {
            0 => 0.0,
            1 => rng.range(-1.0, 1.0) as f32,
            2 => (i as f32 * f).sin(),
            3 => {
                if i % 97 == 0 {
                    1.0
                } else {
                    0.0
                }
            }
            _ => rng.nasty_sample(),
        })
        .collect();
    // a burst of the nastiest values somewhere
    if n > 0 && rng.chance(0.3) {
        let at = rng.below(n);
        for v in x.iter_mut().skip(at).take(1 + rng.below(64)) {
            *v = *rng.pick(&[
                f32::NAN,
                f32::INFINITY,
                f32::NEG_INFINITY,
                1e30,
                -1e30,
                1e-40,
            ]);
        }
    }
    x
}

fn chain_ops(rng: &mut Rng) -> Vec<Op> {
    let mut ops = vec![Op::Prepare(*rng.pick(&[44_100.0, 48_000.0, 96_000.0]))];
    for _ in 0..1 + rng.below(40) {
        ops.push(match rng.below(10) {
            0 => Op::Prepare(*rng.pick(&[
                1_000.0, 8_000.0, 22_050.0, 44_100.0, 48_000.0, 96_000.0, 192_000.0, 384_000.0,
                768_000.0,
            ])),
            1 => Op::Reset,
            2 | 3 => Op::Set(random_params(rng), rng.chance(0.3)),
            4 => {
                let n = rng.block_len(8192);
                Op::Mono(random_signal(rng, n))
            }
            _ => {
                let n = rng.block_len(8192);
                Op::Stereo(random_signal(rng, n), random_signal(rng, n))
            }
        });
    }
    ops
}

fn run_chain(ops: &[Op]) -> Result<(), String> {
    let mut chain = VocalChain::new();
    let mut params = MixParams::default();
    let mut loudest = 1.0f32;
    let mut hear = |x: &[f32]| {
        for v in x.iter().filter(|v| v.is_finite()) {
            loudest = loudest.max(v.abs().min(INPUT_CLAMP));
        }
        loudest * MOST_GAIN
    };
    for (k, op) in ops.iter().enumerate() {
        match op {
            Op::Prepare(sr) => chain
                .prepare(*sr)
                .map_err(|e| format!("op {k}: {sr} Hz refused: {e}"))?,
            Op::Reset => chain.reset(),
            Op::Set(values, immediate) => {
                for &(i, v) in values {
                    params.set(PARAMS[i].id, v);
                }
                if *immediate {
                    chain.set_params_immediate(&params);
                } else {
                    chain.set_params(&params);
                }
            }
            Op::Stereo(l, r) => {
                hear(l);
                let limit = hear(r);
                let (mut l, mut r) = (l.clone(), r.clone());
                chain.process_stereo(&mut l, &mut r);
                check_output(k, &l, limit)?;
                check_output(k, &r, limit)?;
            }
            Op::Mono(x) => {
                let limit = hear(x);
                let (mut l, mut r) = (x.clone(), vec![0.0; x.len()]);
                chain.process_mono(&mut l, &mut r);
                check_output(k, &l, limit)?;
                check_output(k, &r, limit)?;
            }
        }
    }
    Ok(())
}

fn check_output(op: usize, x: &[f32], limit: f32) -> Result<(), String> {
    match x.iter().position(|v| !v.is_finite() || v.abs() > limit) {
        Some(i) => Err(format!("op {op}: sample {i} is {} (limit {limit})", x[i])),
        None => Ok(()),
    }
}

/// The operations, without their samples, for a replay's report.
fn summary(ops: &[Op]) -> String {
    ops.iter()
        .map(|op| match op {
            Op::Prepare(sr) => format!("prepare {sr}"),
            Op::Reset => "reset".into(),
            Op::Set(v, imm) => format!("set {v:?}{}", if *imm { " now" } else { "" }),
            Op::Stereo(l, _) => format!("stereo {}", l.len()),
            Op::Mono(x) => format!("mono {}", x.len()),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

#[test]
fn the_chain_stays_finite_and_bounded_whatever_it_is_fed() {
    if std::env::var_os("AUTOMIX_FUZZ_ITERATION").is_some() {
        let seed = std::env::var("AUTOMIX_FUZZ_SEED").unwrap().parse().unwrap();
        let i = std::env::var("AUTOMIX_FUZZ_ITERATION")
            .unwrap()
            .parse()
            .unwrap();
        eprintln!("{}", summary(&chain_ops(&mut fuzz::case_rng(seed, i))));
    }
    let outcome = fuzz::run(&CHAIN, chain_ops, |ops| run_chain(ops), |_| None);
    fuzz::assert_clean(&outcome);
}

#[derive(Debug)]
struct AnalysisCase {
    rate: u32,
    vocal: Vec<Vec<f32>>,
    backing: Option<Vec<Vec<f32>>>,
    tempo: Option<f64>,
    engine: Engine,
}

fn analysis_case(rng: &mut Rng) -> AnalysisCase {
    let rate = *rng.pick(&[8_000, 16_000, 22_050, 44_100, 48_000, 96_000]);
    let seconds = *rng.pick(&[0.0, 0.01, 0.1, 0.5, 1.0, 3.0]);
    let n = (rate as f64 * seconds) as usize;
    let channels = |rng: &mut Rng| {
        let c = 1 + rng.below(2);
        (0..c).map(|_| random_signal(rng, n)).collect::<Vec<_>>()
    };
    AnalysisCase {
        rate,
        vocal: channels(rng),
        backing: rng.chance(0.7).then(|| channels(rng)),
        tempo: match rng.below(4) {
            0 => Some(rng.range(-10.0, 400.0)),
            1 => Some(f64::NAN),
            _ => None,
        },
        engine: *rng.pick(&Engine::ALL),
    }
}

fn run_analysis(case: &AnalysisCase) -> Result<(), String> {
    let vocal = match Track::from_channels(&case.vocal, case.rate) {
        Ok(t) => t,
        Err(e) if !e.to_string().trim().is_empty() => return Ok(()),
        Err(_) => return Err("an empty error for the vocal".into()),
    };
    let backing = match case
        .backing
        .as_ref()
        .map(|b| Track::from_channels(b, case.rate))
    {
        Some(Ok(t)) => Some(t),
        Some(Err(_)) => return Ok(()),
        None => None,
    };
    let input = AnalysisInput {
        keep: None,
        vad_gate: None,
        vocal: &vocal,
        backing: backing.as_ref(),
        tempo_bpm: case.tempo,
        engine: case.engine,
        // the CNN engines without models: they say so and use the rules
        models: None,
        targets: None,
    };
    match analyze(&input, &mut |_, _| true) {
        Ok(s) => {
            for p in PARAMS {
                let v = s.params.get(p.id);
                if p.conform(v) != Conformed::Exact(v) {
                    return Err(format!("{} = {v}, outside its range", p.key));
                }
            }
            if !s.reverb.tempo_bpm.is_finite() {
                return Err(format!("a tempo of {}", s.reverb.tempo_bpm));
            }
            Ok(())
        }
        Err(e) if !e.to_string().trim().is_empty() => Ok(()),
        Err(_) => Err("an empty error".into()),
    }
}

#[test]
fn the_assistant_suggests_values_in_range_or_says_why_not() {
    let outcome = fuzz::run(&ANALYZE, analysis_case, run_analysis, |_| None);
    fuzz::assert_clean(&outcome);
}

/// Found by the fuzzer: at 1 kHz, 64 distinct prime line lengths reach past the delay memory a
/// large room needs (the 64th prime is 311 samples), and the reverb read before its memory
/// (a subtraction overflow in a test build, an out-of-bounds index in a release build).
#[test]
fn found_the_reverb_reading_past_its_memory_at_low_rates() {
    let noise: Vec<f32> = (0..4096)
        .map(|i| ((i * 7919 % 1000) as f32 / 500.0) - 1.0)
        .collect();
    for rate in [1_000.0, 1_234.57, 2_000.0, 4_000.0, 8_000.0] {
        for size in [16.0, 32.0, 64.0] {
            let mut p = MixParams::default();
            p.set(ParamId::ReverbFdnSize, size);
            p.set(ParamId::ReverbRoomSize, 30.0);
            let mut chain = VocalChain::new();
            chain.set_params_immediate(&p);
            chain.prepare(rate).unwrap();
            // and the glide through every room size down to the smallest
            for room in [30.0, 1.0] {
                p.set(ParamId::ReverbRoomSize, room);
                chain.set_params(&p);
                let (mut l, mut r) = (noise.clone(), noise.clone());
                chain.process_stereo(&mut l, &mut r);
                assert!(
                    l.iter().chain(&r).all(|v| v.is_finite()),
                    "{rate} Hz, {size} lines"
                );
            }
        }
    }
}
