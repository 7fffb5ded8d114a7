//! Our DSP beside the IEM plug-ins the research mixed with (MultiEQ, OmniCompressor, FdnReverb),
//! rendering the same signals with the same settings in the same run.

use automix_tests::*;
use engine::params::EQ_BANDS;
use engine::{MixParams, ParamId, VocalChain};
use serde_json::json;

fn only(stage: ParamId, set: &[(ParamId, f32)]) -> MixParams {
    let mut p = MixParams::default();
    for b in [
        ParamId::EqBypass,
        ParamId::CompBypass,
        ParamId::ReverbBypass,
    ] {
        if b != stage {
            p.set(b, 1.0);
        }
    }
    for &(id, v) in set {
        p.set(id, v);
    }
    p
}

fn ours(p: &MixParams, rate: u32, mono: &[f32]) -> Vec<Vec<f32>> {
    let mut c = VocalChain::new();
    c.set_params_immediate(p);
    c.prepare(rate as f32).unwrap();
    let (mut l, mut r) = (mono.to_vec(), vec![0.0; mono.len()]);
    for (a, b) in l.chunks_mut(512).zip(r.chunks_mut(512)) {
        c.process_mono(a, b);
    }
    vec![l, r]
}

fn band(freq: f32) -> (ParamId, ParamId) {
    let b = EQ_BANDS
        .iter()
        .find(|b| b.0 == freq)
        .expect("an octave band");
    (b.1, b.2)
}

#[test]
fn eq_matches_multieq_within_a_tenth_of_a_db() {
    let Some(iem) = Iem::find() else { return };
    let settings: [&[(f32, f32, f32)]; 3] = [
        &[
            (250.0, -9.0, 1.0),
            (1000.0, 6.0, 2.0),
            (4000.0, 12.0, 1.0),
            (63.0, -12.0, 0.5),
        ],
        &[
            (125.0, 12.0, 1.0),
            (2000.0, -12.0, 4.0),
            (8000.0, 9.0, 0.7),
            (500.0, -6.0, 1.0),
        ],
        &[(16000.0, -12.0, 1.0), (63.0, 12.0, 1.0)],
    ];
    for rate in [44_100u32, 48_000] {
        for peaks in settings {
            let mut set = vec![];
            for &(f, g, q) in peaks {
                let (gid, qid) = band(f);
                set.push((gid, g));
                set.push((qid, q));
            }
            let mut impulse = vec![0.0f32; rate as usize];
            impulse[0] = 1.0;
            let mine = &ours(&only(ParamId::EqBypass, &set), rate, &impulse)[0];
            let job = json!({"plugin": "MultiEQ", "channels": 1, "peaks": peaks});
            let theirs = &iem.render(&job, rate, &[impulse.clone()])[0];
            let mut worst = (0.0f64, 0.0f64);
            for f in third_octaves(0.45 * rate as f64) {
                let d =
                    (response_db(mine, f, rate as f64) - response_db(theirs, f, rate as f64)).abs();
                if d > worst.0 {
                    worst = (d, f);
                }
            }
            eprintln!(
                "EQ vs MultiEQ at {rate} Hz, {peaks:?}: largest difference {:.4} dB at {:.0} Hz",
                worst.0, worst.1
            );
            assert!(
                worst.0 < 0.1,
                "{peaks:?} at {rate} Hz: {:.3} dB apart at {:.0} Hz",
                worst.0,
                worst.1
            );
        }
    }
}

#[test]
fn compressor_matches_omnicompressor_on_a_mono_input() {
    let Some(iem) = Iem::find() else { return };
    let rate = 48_000u32;
    for (t, r, w, a, rel) in [
        (-20.0f32, 4.0f32, 0.0f32, 10.0f32, 100.0f32),
        (-30.0, 2.0, 12.0, 30.0, 150.0),
        (-10.0, 10.0, 6.0, 1.0, 300.0),
    ] {
        // DC levels in 6 dB steps up and back down, then a step for the time constants
        let seg = (0.25 * rate as f32) as usize;
        let levels: Vec<f32> = (-48..=0)
            .step_by(6)
            .chain((-48..0).step_by(6).rev())
            .map(|d| d as f32)
            .collect();
        let mut x: Vec<f32> = levels
            .iter()
            .flat_map(|&db| std::iter::repeat_n(10f32.powf(db / 20.0), seg))
            .collect();
        let step_at = x.len();
        x.extend(std::iter::repeat_n(0.01f32, seg));
        x.extend(std::iter::repeat_n(1.0f32, rate as usize));
        x.extend(std::iter::repeat_n(0.01f32, rate as usize));
        let set = [
            (ParamId::CompThreshold, t),
            (ParamId::CompRatio, r),
            (ParamId::CompKnee, w),
            (ParamId::CompAttack, a),
            (ParamId::CompRelease, rel),
        ];
        let mine = &ours(&only(ParamId::CompBypass, &set), rate, &x)[0];
        let job = json!({"plugin": "OmniCompressor", "channels": 1, "settings": {"Threshold": t, "Ratio": r, "Knee": w, "Attack Time": a, "Release Time": rel}});
        let theirs = &iem.render(&job, rate, &[x.clone()])[0];
        let gain = |y: &[f32], i: usize| 20.0 * (y[i] / x[i]).abs().log10();
        // static curve: the settled gain at the end of every level
        for (k, level) in levels.iter().enumerate() {
            let i = (k + 1) * seg - 1;
            let (g1, g2) = (gain(mine, i), gain(theirs, i));
            assert!(
                (g1 - g2).abs() < 0.1,
                "T {t} R {r} W {w}: at {level} dB ours {g1:.3} dB, IEM {g2:.3} dB"
            );
        }
        // time constants: when the gain has covered 63 % of the step, both ways
        let cross = |y: &[f32], from: usize, len: usize| {
            let g: Vec<f32> = (from..from + len).map(|i| gain(y, i)).collect();
            let (start, end) = (g[0], g[len - 1]);
            let mark = start + (end - start) * 0.632;
            g.iter()
                .position(|&v| if end < start { v <= mark } else { v >= mark })
                .unwrap() as f32
                / rate as f32
                * 1000.0
        };
        let up = step_at + seg;
        let down = up + rate as usize;
        for (what, at) in [("attack", up), ("release", down)] {
            let (m, i) = (
                cross(mine, at, rate as usize),
                cross(theirs, at, rate as usize),
            );
            eprintln!(
                "compressor T {t} R {r} W {w}: {what} 63 % after {m:.2} ms (ours), {i:.2} ms (IEM)"
            );
            assert!(
                (m / i - 1.0).abs() < 0.05,
                "{what}: ours {m:.2} ms, IEM {i:.2} ms"
            );
        }
    }
}

#[test]
fn reverb_tail_level_matches_fdnreverb_64_within_a_db() {
    let Some(iem) = Iem::find() else { return };
    let rate = 48_000u32;
    for (rs, rt) in [(1.0f32, 0.5f32), (5.0, 2.0), (14.54, 1.78), (30.0, 4.0)] {
        let n = (rate as f32 * (1.5 * rt + 0.5)) as usize;
        let mut impulse = vec![0.0f32; n];
        impulse[0] = 1.0;
        let job = json!({"plugin": "FdnReverb", "channels": 2, "fdn_size": 64, "settings": {
            "Room Size": rs, "Reverberation Time": rt, "Dry/Wet": 1.0, "Fade-in Time": 0.0, "Lows Gain": 0.0, "Highs Gain": 0.0}});
        let theirs = iem.render(&job, rate, &[impulse.clone(), impulse.clone()]);
        let tail_db =
            |y: &[Vec<f32>]| 10.0 * ((energy(&y[0][1..]) + energy(&y[1][1..])) / 2.0).log10();
        let reference = tail_db(&theirs);
        for lines in [16.0, 32.0, 64.0] {
            let set = [
                (ParamId::ReverbRoomSize, rs),
                (ParamId::ReverbTime, rt),
                (ParamId::ReverbDryWet, 1.0),
                (ParamId::ReverbFadeIn, 0.0),
                (ParamId::ReverbLowGain, 0.0),
                (ParamId::ReverbHighGain, 0.0),
                (ParamId::ReverbFdnSize, lines),
            ];
            let mine = ours(&only(ParamId::ReverbBypass, &set), rate, &impulse);
            assert_eq!(mine[0][0], 1.0, "direct sound at full level");
            let level = tail_db(&mine);
            eprintln!(
                "reverb room {rs}, RT {rt} s, {lines} lines: tail {level:+.2} dB, FdnReverb (64) {reference:+.2} dB"
            );
            assert!(
                (level - reference).abs() < 1.0,
                "room {rs}, RT {rt}, {lines} lines: {level:.2} dB vs {reference:.2} dB"
            );
        }
    }
}
