//! The whole chain: no clicks when any parameter jumps, targets reached in time, block-size
//! independence, and bad input (NaN, Inf, huge values, odd rates, unprepared use).

mod common;
use common::*;
use engine::params::{Kind, PARAMS, Stage};
use engine::synth::vocal_line;
use engine::{MixParams, ParamId, VocalChain};

const SR: f32 = 48_000.0;

/// Every stage doing something audible.
fn busy() -> MixParams {
    let mut p = MixParams::default();
    for (id, v) in [
        (ParamId::EqGain250, -6.0),
        (ParamId::EqGain4k, 4.0),
        (ParamId::EqHighpassOn, 1.0),
        (ParamId::CompThreshold, -24.0),
        (ParamId::CompRatio, 4.0),
        (ParamId::ReverbDryWet, 0.3),
        (ParamId::LevelGain, -2.0),
    ] {
        p.set(id, v);
    }
    p
}

fn extremes(id: ParamId) -> (f32, f32) {
    let s = id.spec();
    match s.kind {
        Kind::Choice(options) => (options[0], options[options.len() - 1]),
        _ => (s.min, s.max),
    }
}

/// Renders `input` (mono) starting from `from`, switching to `to` at sample `at` (None: never);
/// returns (left, right).
fn render_switch(
    from: &MixParams,
    to: &MixParams,
    at: Option<usize>,
    input: &[f32],
    block: usize,
) -> (Vec<f32>, Vec<f32>) {
    let mut c = chain(from, SR);
    let (mut l, mut r) = (input.to_vec(), vec![0.0; input.len()]);
    let mut pos = 0;
    while pos < input.len() {
        let mut end = (pos + block).min(input.len());
        if let Some(a) = at {
            if pos < a && end > a {
                end = a; // the host splits its block at the automation point
            }
            if pos == a {
                c.set_params(to);
            }
        }
        c.process_mono(&mut l[pos..end], &mut r[pos..end]);
        pos = end;
    }
    (l, r)
}

/// A low, smooth multi-tone: nothing in it above 440 Hz, so a click's broadband energy stands out
/// in the band above 8 kHz, where the tones themselves are 100 dB down.
fn smooth_tones(seconds: f32) -> Vec<f32> {
    let tau = std::f32::consts::TAU;
    (0..(seconds * SR) as usize)
        .map(|i| {
            let t = i as f32 / SR;
            0.3 * (tau * 110.0 * t).sin()
                + 0.15 * (tau * 220.0 * t).sin()
                + 0.08 * (tau * 440.0 * t + 1.0).sin()
        })
        .collect()
}

/// The middle of the loudest 100 ms, where a click would hide best.
fn loudest_moment(input: &[f32]) -> usize {
    let w = (0.1 * SR) as usize;
    let k = (0..input.len() / w)
        .max_by(|&a, &b| {
            energy(&input[a * w..(a + 1) * w]).total_cmp(&energy(&input[b * w..(b + 1) * w]))
        })
        .unwrap();
    k * w + w / 2
}

type Measure = dyn Fn(&[f32], &[f32], &[f32]) -> Option<String>;

/// For every parameter of the table, a setting jumped from minimum to maximum and back while
/// `input` sounds, beside both settings rendered alone; `measure` says where it clicked.
fn check_every_jump(input: &[f32], measure: &Measure) -> Vec<String> {
    let at = loudest_moment(input);
    // from just before the switch to 60 ms after it
    let window = at - 48..at + (0.06 * SR) as usize;
    let mut failures = vec![];
    for spec in PARAMS {
        let (lo, hi) = extremes(spec.id);
        let (mut a, mut b) = (busy(), busy());
        // A compressor after the stage under test answers any rise in level with its attack,
        // which neither setting alone shows: that is compression, not a click. Only the
        // compressor's own parameters are jumped with it running.
        if spec.stage != Stage::Compressor {
            a.set(ParamId::CompBypass, 1.0);
            b.set(ParamId::CompBypass, 1.0);
        }
        a.set(spec.id, lo);
        b.set(spec.id, hi);
        let alone_a = render_switch(&a, &a, None, input, 256);
        let alone_b = render_switch(&b, &b, None, input, 256);
        for (from, to, dir) in [(&a, &b, "up"), (&b, &a, "down")] {
            let jumped = render_switch(from, to, Some(at), input, 256);
            for (side, j, x, y) in [
                ("left", &jumped.0, &alone_a.0, &alone_b.0),
                ("right", &jumped.1, &alone_a.1, &alone_b.1),
            ] {
                assert!(
                    j.iter().all(|v| v.is_finite()),
                    "{}: non-finite output",
                    spec.key
                );
                let w = window.clone();
                if let Some(why) = measure(&j[w.clone()], &x[w.clone()], &y[w]) {
                    failures.push(format!("{} jumped {dir} ({side}): {why}", spec.key));
                }
            }
        }
    }
    failures
}

#[test]
fn jumping_any_parameter_keeps_the_largest_step_of_either_setting() {
    // The criterion as the issue states it, on a sung line. A glide passes through settings
    // neither end has (a high-pass half faded in, a band half way), whose largest step can sit a
    // hair above both ends' (up to 1 % seen); enlarging the room leaves the small room's louder
    // tail sounding under the large room's until it has decayed (2.5 % seen from room size 1 to
    // 30). A click adds a discontinuity of its own, and the broadband test below catches those
    // far below this margin.
    let failures = check_every_jump(&vocal_line(SR, 1.2, 0.5, 11), &|j, a, b| {
        let (step, bound) = (max_step(j), max_step(a).max(max_step(b)));
        (step > bound * 1.03 + 1e-6)
            .then(|| format!("largest step {step:.5} > {bound:.5} at either setting alone"))
    });
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn jumping_any_parameter_adds_no_broadband_click() {
    // On smooth low tones every setting alone leaves the band above 8 kHz empty (the chain is
    // linear while the compressor rests, and the tones sit 100 dB down there); a click or a
    // zipper fills it. The peak there may not exceed either setting's own by more than 10 %, nor
    // −80 dBFS.
    let failures = check_every_jump(&smooth_tones(1.2), &|j, a, b| {
        let hf = |x: &[f32]| butterworth_high_pass(x, 8000.0, SR as f64);
        let (hj, bound) = (hf(j), peak(&hf(a)[48..]).max(peak(&hf(b)[48..])));
        let (at, got) = hj
            .iter()
            .enumerate()
            .skip(48)
            .fold(
                (0, 0.0f32),
                |m, (i, v)| if v.abs() > m.1 { (i, v.abs()) } else { m },
            );
        let ms = (at as f32 - 48.0) / SR * 1000.0;
        (got > bound * 1.1 + 1e-4).then(|| format!("above 8 kHz peaks at {got:.6} ({ms:.1} ms after the switch), either setting alone {bound:.6}"))
    });
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn every_parameter_reaches_its_target_within_50_ms() {
    for spec in PARAMS {
        let (lo, hi) = extremes(spec.id);
        for (from, to) in [(lo, hi), (hi, lo)] {
            let (mut a, mut b) = (busy(), busy());
            a.set(spec.id, from);
            b.set(spec.id, to);
            let mut c = chain(&a, SR);
            let mut buf = vocal_line(SR, 0.2, 0.5, 3);
            let mut right = vec![0.0; buf.len()];
            c.process_mono(&mut buf[..4800], &mut right[..4800]);
            c.set_params(&b);
            let n50 = (0.05 * SR) as usize;
            for k in 0..n50 / 100 {
                let s = 4800 + k * 100;
                c.process_mono(&mut buf[s..s + 100], &mut right[s..s + 100]);
            }
            let now = c.current(spec.id);
            let want = match spec.kind {
                Kind::Toggle => to,
                _ => b.get(spec.id),
            };
            assert!(
                (now - want).abs() <= 1e-4 * want.abs().max(1.0),
                "{}: {now} after 50 ms, target {want}",
                spec.key
            );
        }
    }
}

#[test]
fn any_block_size_gives_the_same_output() {
    let input = vocal_line(SR, 3.0, 0.7, 5);
    let mut to = busy();
    to.set(ParamId::ReverbRoomSize, 25.0);
    to.set(ParamId::EqGain1k, 9.0);
    to.set(ParamId::CompThreshold, -35.0);
    let change = 48_000; // a change of parameters, sample-accurate, after one second
    for lines in [16.0, 64.0] {
        let mut from = busy();
        from.set(ParamId::ReverbFdnSize, lines);
        to.set(ParamId::ReverbFdnSize, lines);
        let reference = render_switch(&from, &to, Some(change), &input, 1);
        let level = peak(&reference.0).max(peak(&reference.1));
        for block in [64, 517, 8192] {
            let out = render_switch(&from, &to, Some(change), &input, block);
            let pairs = reference
                .0
                .iter()
                .zip(&out.0)
                .chain(reference.1.iter().zip(&out.1));
            let diff = pairs.map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
            let db = 20.0 * (diff.max(1e-30) / level).log10();
            assert!(
                db < -120.0,
                "{lines} lines, blocks of {block}: differs by {db:.1} dB"
            );
        }
    }
}

#[test]
fn mono_in_equals_the_same_signal_on_both_stereo_inputs() {
    let x = vocal_line(SR, 1.0, 0.5, 9);
    let mut c = chain(&busy(), SR);
    let (mut l, mut r) = (x.clone(), vec![0.0; x.len()]);
    c.process_mono(&mut l, &mut r);
    let mut c = chain(&busy(), SR);
    let (mut l2, mut r2) = (x.clone(), x.clone());
    c.process_stereo(&mut l2, &mut r2);
    let diff = l
        .iter()
        .chain(&r)
        .zip(l2.iter().chain(&r2))
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(diff < 1e-6, "{diff}");
}

#[test]
fn nan_inf_and_huge_input_are_sanitised_never_passed_on() {
    let mut x = vocal_line(SR, 2.0, 0.5, 2);
    let bad = [
        (1000, f32::NAN),
        (1001, f32::INFINITY),
        (20_000, f32::NEG_INFINITY),
        (30_000, 1e30),
        (30_001, -1e30),
    ];
    let mut clean = x.clone();
    for &(i, v) in &bad {
        x[i] = v;
        clean[i] = if v.is_finite() {
            v.clamp(-1000.0, 1000.0)
        } else {
            0.0
        };
    }
    let run = |input: &[f32]| {
        let mut c = chain(&busy(), SR);
        let (mut l, mut r) = (input.to_vec(), input.to_vec());
        c.process_stereo(&mut l, &mut r);
        (l, r)
    };
    let (l, r) = run(&x);
    assert!(l.iter().chain(&r).all(|v| v.is_finite()));
    // exactly what the sanitised input gives: nothing else changed, and the chain kept working
    assert_eq!((l, r), run(&clean));
}

#[test]
fn decaying_memory_never_becomes_subnormal() {
    // An impulse, then half a minute of silence: every filter and the reverb decay through the
    // subnormal range, which is slow on most CPUs. Flush-to-zero makes those values exact zeros.
    let mut p = busy();
    p.set(ParamId::ReverbTime, 0.3);
    let mut c = chain(&p, SR);
    let n = (30.0 * SR) as usize;
    let (mut l, mut r) = (impulse(n), vec![0.0; n]);
    for (a, b) in l.chunks_mut(512).zip(r.chunks_mut(512)) {
        c.process_mono(a, b);
    }
    let subnormal = l.iter().chain(&r).filter(|v| v.is_subnormal()).count();
    assert_eq!(subnormal, 0);
    assert!(
        l[n - 512..].iter().all(|&v| v == 0.0),
        "the tail has died away to exact zeros"
    );
}

#[test]
fn every_supported_rate_renders_and_others_are_refused() {
    for sr in [
        1_000.0f32, 1_234.57, 8_000.0, 22_050.0, 32_000.0, 44_100.0, 48_000.0, 88_200.0, 96_000.0,
        176_400.0, 192_000.0, 384_000.0, 768_000.0,
    ] {
        let x = vocal_line(sr, 0.5, 0.5, 1);
        let mut c = VocalChain::new();
        c.set_params_immediate(&busy());
        c.prepare(sr).unwrap();
        let (mut l, mut r) = (x.clone(), vec![0.0; x.len()]);
        c.process_mono(&mut l, &mut r);
        assert!(l.iter().chain(&r).all(|v| v.is_finite()), "{sr}");
        assert!(energy(&r) > 0.01 * energy(&x), "{sr}: no output");
    }
    for sr in [
        0.0f32,
        999.0,
        -48_000.0,
        768_001.0,
        1e6,
        f32::NAN,
        f32::INFINITY,
    ] {
        assert!(VocalChain::new().prepare(sr).is_err(), "{sr} accepted");
    }
}

#[test]
fn an_unprepared_chain_passes_audio_through() {
    let mut c = VocalChain::new();
    let (mut l, mut r) = (vec![0.5, f32::NAN, -0.25], vec![9.0; 3]);
    c.process_mono(&mut l, &mut r);
    assert_eq!(l, vec![0.5, 0.0, -0.25]);
    assert_eq!(r, l);
}

#[test]
fn every_parameter_at_either_extreme_stays_finite_and_bounded() {
    let x = vocal_line(SR, 2.0, 0.9, 4);
    for pick in [0, 1] {
        let mut p = MixParams::default();
        for spec in PARAMS {
            if !matches!(spec.kind, Kind::Toggle) {
                let (lo, hi) = extremes(spec.id);
                p.set(spec.id, if pick == 0 { lo } else { hi });
            }
        }
        let (l, r) = render_mono(&p, SR, &x, 333);
        assert!(l.iter().chain(&r).all(|v| v.is_finite()));
        // +20 dB level, +24 dB make-up and +15 dB EQ on a 0.9 peak: loud, but bounded
        assert!(peak(&l).max(peak(&r)) < 1e4, "{pick}: {}", peak(&l));
    }
}
