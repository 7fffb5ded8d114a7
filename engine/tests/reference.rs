//! Mixing toward a reference: its measures become the stages' targets by the stages' amounts,
//! locked stages keep their settings, and a reference's measures read from its stems are what a
//! mix of them gives back.

use engine::analysis::level_balance;
use engine::analysis::loudness::Blocks;
use engine::analysis::reference::{self, ReferenceMeasures};
use engine::analysis::targets::{Kept, ReferenceTarget, Targets};
use engine::analysis::{ANALYSIS_RATE, AnalysisInput, Engine, MixSuggestion, Track, analyze};
use engine::params::Stage;
use engine::synth::{backing_track, vocal_line};
use engine::{MixParams, ParamId, VocalChain};

const SR: u32 = ANALYSIS_RATE;

fn track(channels: &[Vec<f32>]) -> Track {
    Track::from_channels(channels, SR).unwrap()
}

fn measures(vmb: f64, lra: f64, tail: Option<f64>) -> ReferenceMeasures {
    ReferenceMeasures {
        vocal_minus_backing_lu: Some(vmb),
        vocal_loudness_range_lu: Some(lra),
        tone_relative_db: None,
        tone_vocal_share: None,
        reverb_tail_db: tail,
        sung_seconds: 60.0,
        seconds: 120.0,
        confidence: None,
    }
}

fn with_reference(m: ReferenceMeasures, amounts: [f64; 4]) -> Targets {
    Targets {
        reference: Some(ReferenceTarget {
            measures: m,
            source: "test.wav".into(),
            amounts,
        }),
        ..Targets::built_in()
    }
}

fn run(vocal: &Track, backing: &Track, targets: &Targets, keep: Option<&Kept>) -> MixSuggestion {
    analyze(
        &AnalysisInput {
            vocal,
            backing: Some(backing),
            tempo_bpm: Some(100.0),
            engine: Engine::Rules,
            models: None,
            targets: Some(targets),
            keep,
            vad_gate: None,
        },
        &mut |_, _| true,
    )
    .unwrap()
}

fn inputs(seconds: f32) -> (Vec<f32>, [Vec<f32>; 2]) {
    (
        vocal_line(SR as f32, seconds, 0.5, 11),
        backing_track(SR as f32, seconds, 100.0, 0.7, 12),
    )
}

/// The rendered vocal's loudness minus the backing's, both as they play.
fn balance(p: &MixParams, vocal: &[f32], backing: &[Vec<f32>; 2]) -> f64 {
    let mut c = VocalChain::new();
    c.set_params_immediate(p);
    c.prepare(SR as f32).unwrap();
    let n = vocal.len() + (p.get(ParamId::ReverbTime) * SR as f32) as usize;
    let mut l = vocal.to_vec();
    l.resize(n, 0.0);
    let mut r = vec![0.0; n];
    for (a, b) in l.chunks_mut(4096).zip(r.chunks_mut(4096)) {
        c.process_mono(a, b);
    }
    level_balance::measured_loudness(&l, &r, SR).unwrap()
        - level_balance::measured_loudness(&backing[0], &backing[1], SR).unwrap()
}

#[test]
fn the_level_lands_on_the_references_balance_by_its_amount() {
    let (v, b) = inputs(30.0);
    let (vocal, backing) = (track(std::slice::from_ref(&v)), track(&b));
    let default = run(&vocal, &backing, &Targets::built_in(), None);
    let default_balance = balance(&default.params, &v, &b);
    // at 50 %: halfway from the built-in −1.77 LU to the reference's −6
    for (amount, want) in [(1.0, -6.0), (0.5, -1.77 + 0.5 * (-6.0 + 1.77))] {
        let s = run(
            &vocal,
            &backing,
            &with_reference(measures(-6.0, 8.0, None), [0.0, 0.0, 0.0, amount]),
            None,
        );
        let got = balance(&s.params, &v, &b);
        println!("amount {amount}: {got:.2} LU (default {default_balance:.2})");
        assert!(
            (got - want).abs() < 0.3,
            "amount {amount}: {got} for {want}"
        );
        assert!(
            s.level.reason.starts_with("from the reference (test.wav"),
            "{}",
            s.level.reason
        );
        assert!(s.reference.is_some());
        // the other stages, at 0 %, are as without a reference
        assert_eq!(s.compression.threshold_db, default.compression.threshold_db);
        assert_eq!(
            s.params.get(ParamId::ReverbDryWet),
            default.params.get(ParamId::ReverbDryWet)
        );
    }
    // no amount anywhere: the suggestion is the default one, parameter for parameter
    let none = run(
        &vocal,
        &backing,
        &with_reference(measures(-6.0, 3.0, Some(-10.0)), [0.0; 4]),
        None,
    );
    assert_eq!(none.params, default.params);
}

#[test]
fn the_compressor_aims_at_the_references_loudness_range() {
    let (v, b) = inputs(30.0);
    let (vocal, backing) = (track(std::slice::from_ref(&v)), track(&b));
    let before = Blocks::of_mono(&vocal.mono, SR).loudness_range().unwrap();
    let target = (before - 3.0).max(1.0);
    let s = run(
        &vocal,
        &backing,
        &with_reference(measures(-2.0, target, None), [0.0, 1.0, 0.0, 0.0]),
        None,
    );
    assert!(
        (s.compression.target_lu - target).abs() < 0.01,
        "{:?}",
        s.compression
    );
    let after = s.compression.loudness_range_after_lu.unwrap();
    assert!(after < before - 1.0, "{before} → {after}");
    assert!(
        s.compression.reason.contains("from the reference"),
        "{}",
        s.compression.reason
    );
}

/// A reference whose vocal carries more tail than the dry line gets reverb; one drier than it
/// gets none; the tail the dry/wet gives is the reference's.
#[test]
fn the_reverb_follows_the_references_tail() {
    let (v, b) = inputs(30.0);
    let (vocal, backing) = (track(std::slice::from_ref(&v)), track(&b));
    let dry = reference::tail_db(&reference::frame_energies(&v, SR)).expect("phrase ends");
    let wet = run(
        &vocal,
        &backing,
        &with_reference(measures(-2.0, 8.0, Some(dry + 15.0)), [0.0, 0.0, 1.0, 0.0]),
        None,
    );
    let drier = run(
        &vocal,
        &backing,
        &with_reference(measures(-2.0, 8.0, Some(dry - 10.0)), [0.0, 0.0, 1.0, 0.0]),
        None,
    );
    let w = wet.params.get(ParamId::ReverbDryWet);
    println!(
        "dry tail {dry:.1} dB: dry/wet {w} for +15 dB, {} for −10 dB",
        drier.params.get(ParamId::ReverbDryWet)
    );
    assert!(w > 0.05, "{w}: {}", wet.reverb.reason);
    assert_eq!(drier.params.get(ParamId::ReverbDryWet), 0.0);
    // rendered, the vocal carries the reference's tail
    let mut c = VocalChain::new();
    let mut p = wet.params.clone();
    for id in [ParamId::EqBypass, ParamId::CompBypass] {
        p.set(id, 1.0);
    }
    p.set(ParamId::LevelGain, 0.0);
    c.set_params_immediate(&p);
    c.prepare(SR as f32).unwrap();
    let (mut l, mut r) = (v.clone(), vec![0.0; v.len()]);
    for (a, b) in l.chunks_mut(4096).zip(r.chunks_mut(4096)) {
        c.process_mono(a, b);
    }
    let mono: Vec<f32> = l.iter().zip(&r).map(|(a, b)| 0.5 * (a + b)).collect();
    let got = reference::tail_db(&reference::frame_energies(&mono, SR)).unwrap();
    assert!((got - (dry + 15.0)).abs() < 2.0, "{got} for {}", dry + 15.0);
}

#[test]
fn locked_stages_keep_their_settings_and_the_rest_is_decided_with_them() {
    let (v, b) = inputs(20.0);
    let (vocal, backing) = (track(std::slice::from_ref(&v)), track(&b));
    let mut current = MixParams::default();
    current.set(ParamId::CompThreshold, -30.0);
    current.set(ParamId::CompRatio, 8.0);
    current.set(ParamId::ReverbDryWet, 0.4);
    current.set(ParamId::LevelGain, -7.5);
    for (stages, checks) in [
        (
            vec![Stage::Compressor],
            vec![(ParamId::CompThreshold, -30.0), (ParamId::CompRatio, 8.0)],
        ),
        (
            vec![Stage::Reverb, Stage::Level],
            vec![(ParamId::ReverbDryWet, 0.4), (ParamId::LevelGain, -7.5)],
        ),
    ] {
        let kept = Kept {
            params: current.clone(),
            stages: stages.clone(),
        };
        let s = run(&vocal, &backing, &Targets::built_in(), Some(&kept));
        for (id, want) in checks {
            assert_eq!(s.params.get(id), want, "{stages:?}: {}", id.key());
        }
        for st in &stages {
            assert!(s.reason(*st).starts_with("locked"), "{}", s.reason(*st));
            assert!(s.locked.contains(&st.key().to_string()));
        }
        if stages == [Stage::Compressor] {
            // the level is decided on the vocal as the locked compressor leaves it
            let got = balance(&s.params, &v, &b);
            assert!((got + 1.77).abs() < 0.3, "{got}");
        }
    }
}

/// A song's measures from its stems: the vocal-minus-backing the analysis aims at, as a mix of
/// them gives it.
#[test]
fn a_references_measures_are_those_of_its_mix() {
    let (v, b) = inputs(30.0);
    let gain = 10f32.powf(-4.0 / 20.0);
    let quiet: Vec<f32> = v.iter().map(|x| x * gain).collect();
    let (vocal, backing) = (track(&[quiet.clone(), quiet.clone()]), track(&b));
    let m = reference::measure(&vocal, Some(&backing), 20.0);
    let want = level_balance::measured_loudness(&quiet, &quiet, SR).unwrap()
        - level_balance::measured_loudness(&b[0], &b[1], SR).unwrap();
    let got = m.vocal_minus_backing_lu.unwrap();
    assert!((got - want).abs() < 0.05, "{got} for {want}");
    assert!(m.vocal_loudness_range_lu.is_some() && m.tone_relative_db.is_some());
    let shares = m.tone_vocal_share.unwrap();
    assert!(shares.iter().all(|s| (0.0..=1.0).contains(s)), "{shares:?}");
}

/// A separated reference's confidence scales how far the level follows it: a sure measure is
/// followed nearly whole, a doubtful one leans toward the built-in target by as much as the doubt
/// (the level lands at the built-in target plus confidence × the way to the reference's), and the
/// level's reason says so. The same measured balance, three confidences.
#[test]
fn a_reference_with_low_confidence_moves_the_level_less_than_one_with_high() {
    use engine::analysis::reference::{Confidence, LOW_CONFIDENCE};
    let (v, b) = inputs(30.0);
    let (vocal, backing) = (track(std::slice::from_ref(&v)), track(&b));
    let default = balance(
        &run(&vocal, &backing, &Targets::built_in(), None).params,
        &v,
        &b,
    );
    let mut moved = Vec::new();
    // sure; the two readings 4 LU apart; 2 s of singing
    for (resynthesised, sung) in [(-7.0, 120.0), (-11.0, 120.0), (-7.0, 2.0)] {
        let mut m = measures(-7.0, 8.0, None);
        m.confidence = Confidence::of_separation(Some(-7.0), Some(resynthesised), None, sung);
        let w = m.confidence.as_ref().unwrap().balance;
        let s = run(
            &vocal,
            &backing,
            &with_reference(m, [0.0, 0.0, 0.0, 1.0]),
            None,
        );
        let got = balance(&s.params, &v, &b) - default;
        let want = w * (-7.0 + 1.77);
        println!("confidence {w:.2}: moved {got:.2} LU toward -7 (want {want:.2})");
        assert!(
            (got - want).abs() < 0.4,
            "confidence {w}: moved {got}, want {want}"
        );
        let reason = &s.level.reason;
        if w < LOW_CONFIDENCE {
            assert!(
                reason.contains("low confidence") && reason.contains("leans toward"),
                "{reason}"
            );
        } else if w < 0.95 {
            assert!(reason.contains("as far as its confidence"), "{reason}");
        }
        moved.push((w, got));
    }
    let (sure, doubtful, short) = (moved[0], moved[1], moved[2]);
    assert!(
        sure.0 > 0.7 && doubtful.0 < LOW_CONFIDENCE && short.0 < LOW_CONFIDENCE,
        "{moved:?}"
    );
    assert!(
        doubtful.1 > sure.1 + 1.0 && short.1 > sure.1 + 1.0,
        "{moved:?}"
    );
}
