//! The rule-based assistant on signals whose right answer is known.

use engine::analysis::compression_search::{self, TARGET_LU};
use engine::analysis::level_balance;
use engine::analysis::loudness::Blocks;
use engine::analysis::suggestion::{SearchOutcome, TempoSource};
use engine::analysis::targets::Targets;
use engine::analysis::{
    ANALYSIS_RATE, AnalysisError, AnalysisInput, Engine, MixSuggestion, Step, Track, analyze, tempo,
};
use engine::params::{EQ_BANDS, Kind, PARAMS, Stage};
use engine::synth::{Rng, backing_track, vocal_line};
use engine::{MixParams, ParamId, VocalChain};

const SR: u32 = ANALYSIS_RATE;

fn track(channels: &[Vec<f32>], rate: u32) -> Track {
    Track::from_channels(channels, rate).unwrap()
}

/// The rules with the research's targets alone (the masking rule, no tone target): what these
/// tests check is each rule on its own; the tone correction has its tests in `tone_eq` and
/// `cargo test -p automix --test eval`.
fn run(vocal: &Track, backing: Option<&Track>, tempo: Option<f64>) -> MixSuggestion {
    analyze(
        &AnalysisInput {
            keep: None,
            vad_gate: None,
            vocal,
            backing,
            tempo_bpm: tempo,
            engine: Engine::Rules,
            models: None,
            targets: Some(&Targets {
                tone: None,
                ..Targets::built_in()
            }),
        },
        &mut |_, _| true,
    )
    .unwrap()
}

/// Short decaying noise bursts on every beat.
fn click_track(bpm: f64, seconds: f64, seed: u64) -> Vec<f32> {
    let n = (seconds * SR as f64) as usize;
    let mut x = vec![0.0f32; n];
    let mut rng = Rng::new(seed);
    let mut beat = 0.0f64;
    while ((beat * 60.0 / bpm) * SR as f64) < n as f64 {
        let start = (beat * 60.0 / bpm * SR as f64).round() as usize;
        for i in 0..(0.01 * SR as f64) as usize {
            if start + i < n {
                x[start + i] += 0.8 * rng.bipolar() * (-(i as f32) / 60.0).exp();
            }
        }
        beat += 1.0;
    }
    x
}

/// Renders `input` (mono) through the chain at `rate` with `tail` seconds after it.
fn render(p: &MixParams, input: &[f32], rate: u32, tail: f32) -> (Vec<f32>, Vec<f32>) {
    let mut c = VocalChain::new();
    c.set_params_immediate(p);
    c.prepare(rate as f32).unwrap();
    let n = input.len() + (tail * rate as f32) as usize;
    let mut l = input.to_vec();
    l.resize(n, 0.0);
    let mut r = vec![0.0; n];
    for (a, b) in l.chunks_mut(4096).zip(r.chunks_mut(4096)) {
        c.process_mono(a, b);
    }
    (l, r)
}

fn stereo_lufs(l: &[f32], r: &[f32], rate: u32) -> f64 {
    level_balance::measured_loudness(l, r, rate).unwrap()
}

fn assert_in_ranges(s: &MixSuggestion) {
    for (id, v) in s.params.iter() {
        let spec = id.spec();
        assert!(v.is_finite(), "{} is {v}", spec.key);
        match spec.kind {
            Kind::Continuous => assert!(
                v >= spec.min && v <= spec.max,
                "{} = {v} outside {}..{}",
                spec.key,
                spec.min,
                spec.max
            ),
            _ => assert!(spec.conform(v).value() == v, "{} = {v}", spec.key),
        }
    }
}

#[test]
fn click_tracks_give_their_tempo_within_2_percent_and_the_formula_reverb_time() {
    for &bpm in &[90.0, 120.0, 140.0] {
        let clicks = click_track(bpm, 30.0, bpm as u64);
        let est = tempo::estimate(&clicks, SR).expect("a tempo");
        println!(
            "{bpm} BPM: {:.2} (confidence {:.2})",
            est.bpm, est.confidence
        );
        assert!(
            (est.bpm / bpm - 1.0).abs() < 0.02,
            "{bpm}: estimated {}",
            est.bpm
        );
        assert!(est.confidence > 0.5, "{bpm}: confidence {}", est.confidence);

        // end to end: the suggestion's reverb time follows RT = −T/45 + 40/9
        let vocal = track(&[vocal_line(SR as f32, 30.0, 0.5, 7)], SR);
        let backing = track(&[clicks.clone(), clicks], SR);
        let s = run(&vocal, Some(&backing), None);
        assert_eq!(s.reverb.tempo_source, TempoSource::Estimated);
        let rt = s.params.get(ParamId::ReverbTime) as f64;
        let formula = -bpm / 45.0 + 40.0 / 9.0;
        assert!((rt - formula).abs() < 0.05, "{bpm}: RT {rt} vs {formula}");
    }
}

#[test]
fn a_synthesised_groove_gives_its_tempo_and_noise_gives_low_confidence() {
    for &bpm in &[84.0f32, 100.0, 128.0] {
        let [l, _] = backing_track(SR as f32, 40.0, bpm, 0.8, 5);
        let est = tempo::estimate(&l, SR).unwrap();
        println!("groove {bpm}: {:.2} ({:.2})", est.bpm, est.confidence);
        assert!(
            (est.bpm / bpm as f64 - 1.0).abs() < 0.02,
            "{bpm}: {}",
            est.bpm
        );
    }
    let mut rng = Rng::new(9);
    let noise: Vec<f32> = (0..SR * 30).map(|_| 0.3 * rng.bipolar()).collect();
    let est = tempo::estimate(&noise, SR);
    println!("noise: {est:?}");
    assert!(est.is_none_or(|e| e.confidence < 0.3), "{est:?}");
}

#[test]
fn the_callers_tempo_wins_and_a_missing_one_is_assumed_with_a_warning() {
    let vocal = track(&[vocal_line(SR as f32, 12.0, 0.5, 1)], SR);
    let s = run(&vocal, None, Some(60.0));
    assert_eq!(s.reverb.tempo_source, TempoSource::Caller);
    assert!((s.params.get(ParamId::ReverbTime) - (40.0 / 9.0 - 60.0 / 45.0) as f32).abs() < 0.01);
    let s = run(&vocal, None, None);
    assert_eq!(s.reverb.tempo_source, TempoSource::Assumed);
    assert!(s.warnings.iter().any(|w| w.code == "tempo_assumed"));
    assert!(s.warnings.iter().any(|w| w.code == "backing_missing"));
    // a very fast tempo clamps to the reverb's shortest time, and says so
    let s = run(&vocal, None, Some(210.0));
    assert_eq!(
        s.params.get(ParamId::ReverbTime),
        ParamId::ReverbTime.spec().min
    );
    assert!(s.reverb.reason.contains("outside"));
}

/// A backing of band-limited noise concentrated in one octave, plus a quieter broadband bed.
fn backing_around(centre: f64, seconds: f32, seed: u64) -> Vec<f32> {
    let mut rng = Rng::new(seed);
    let n = (seconds * SR as f32) as usize;
    let w0 = std::f64::consts::TAU * centre / SR as f64;
    let alpha = w0.sin() / (2.0 * 2.0);
    let (b0, b2, a0, a1, a2) = (alpha, -alpha, 1.0 + alpha, -2.0 * w0.cos(), 1.0 - alpha);
    let mut st = [0.0f64; 4];
    let mut stage2 = [0.0f64; 4];
    let bp = |x: f64, s: &mut [f64; 4]| {
        let y = (b0 * x + b2 * s[1] - a1 * s[2] - a2 * s[3]) / a0;
        s[1] = s[0];
        s[0] = x;
        s[3] = s[2];
        s[2] = y;
        y
    };
    (0..n)
        .map(|_| {
            let w = rng.bipolar() as f64;
            let band = bp(bp(w, &mut st), &mut stage2);
            (1.2 * band + 0.01 * rng.bipolar() as f64) as f32
        })
        .collect()
}

#[test]
fn a_backing_that_lives_at_250_hz_makes_the_vocal_cut_there() {
    let vocal = track(&[vocal_line(SR as f32, 20.0, 0.5, 3)], SR);
    let b = backing_around(250.0, 20.0, 4);
    let backing = track(&[b.clone(), b], SR);
    let s = run(&vocal, Some(&backing), Some(100.0));
    for band in &s.eq.bands {
        println!(
            "{:>6} Hz v {:7.1} ({:+5.1}{}) b {:7.1} ({:+5.1}{}) over {:+5.1} → {:+.1}",
            band.hz,
            band.vocal_db,
            band.vocal_relative_db,
            if band.vocal_essential { "*" } else { " " },
            band.backing_db.unwrap(),
            band.backing_relative_db.unwrap(),
            if band.backing_essential { "*" } else { " " },
            band.backing_over_vocal_db.unwrap(),
            band.gain_db
        );
    }
    let at250 = s.params.get(ParamId::EqGain250);
    assert!(
        s.eq.bands[2].vocal_essential,
        "250 Hz essential to the vocal"
    );
    assert!(s.eq.bands[2].backing_essential);
    assert!(at250 <= -2.0, "cut at 250 Hz: {at250}");
    assert!(s.eq.filters.len() <= 4);
    assert!(s.eq.filters.iter().all(|f| f.q == 1.0));
    assert_eq!(s.params.get(ParamId::EqQ250), 1.0);

    // the same vocal against a backing that lives at 4 kHz: no cut at 250 Hz
    let b = backing_around(4000.0, 20.0, 4);
    let backing = track(&[b.clone(), b], SR);
    let s = run(&vocal, Some(&backing), Some(100.0));
    assert!(
        s.params.get(ParamId::EqGain250) >= 0.0,
        "{}",
        s.params.get(ParamId::EqGain250)
    );
    assert!(s.params.get(ParamId::EqGain4k) < 0.0);
}

/// A vocal line whose phrases jump between loud and very quiet: a loudness range well over 20 LU.
fn dynamic_vocal(seconds: f32, seed: u64) -> Vec<f32> {
    let mut v = vocal_line(SR as f32, seconds, 0.9, seed);
    let phrase = (SR as f32 * 6.0) as usize;
    for (k, chunk) in v.chunks_mut(phrase).enumerate() {
        // within Tech 3342's 20 LU relative gate, so that all of it counts
        let g = [1.0, 0.1, 0.56, 0.13, 0.75, 0.18][k % 6];
        chunk.iter_mut().for_each(|x| *x *= g);
    }
    v
}

#[test]
fn a_very_dynamic_vocal_is_compressed_to_the_target_range() {
    let v = dynamic_vocal(60.0, 11);
    let vocal = track(std::slice::from_ref(&v), SR);
    let [l, r] = backing_track(SR as f32, 60.0, 96.0, 0.5, 2);
    let backing = track(&[l, r], SR);
    let s = run(&vocal, Some(&backing), None);
    let c = &s.compression;
    println!("{c:#?}");
    let before = c.loudness_range_before_lu.unwrap();
    assert!(before > 19.0, "the test signal is dynamic: {before}");
    match c.outcome {
        SearchOutcome::Reached => assert!(c.loudness_range_after_lu.unwrap() <= TARGET_LU),
        SearchOutcome::StoppedAtFloor => assert_eq!(c.threshold_db, -33.0),
        o => panic!("{o:?}"),
    }
    // measured independently on the rendered vocal (EQ, compressor, reverb, level)
    let (l, r) = render(&s.params, &v, SR, 0.0);
    let mut m = engine::analysis::loudness::BlockMeter::new(SR, 2);
    let inter: Vec<f32> = l.iter().zip(&r).flat_map(|(a, b)| [*a, *b]).collect();
    m.push_interleaved(&inter);
    let lra = m.finish().loudness_range().unwrap();
    println!("rendered LRA {lra:.2}");
    if c.outcome == SearchOutcome::Reached {
        assert!(lra <= TARGET_LU + 0.2, "{lra}");
    }
}

#[test]
fn the_bisection_finds_the_step_the_papers_walk_finds() {
    // signals that stop at different steps, including the floor and the first step
    let mut cases: Vec<Vec<f32>> = vec![dynamic_vocal(40.0, 1), dynamic_vocal(40.0, 2)];
    let mut calm = vocal_line(SR as f32, 40.0, 0.9, 3);
    cases.push(calm.clone());
    let phrase = SR as usize * 4;
    for (k, chunk) in calm.chunks_mut(phrase).enumerate() {
        let g = [1.0, 0.2, 0.5, 0.08][k % 4];
        chunk.iter_mut().for_each(|x| *x *= g);
    }
    cases.push(calm);
    let mut extreme = vocal_line(SR as f32, 40.0, 0.9, 4);
    for (k, chunk) in extreme.chunks_mut(phrase).enumerate() {
        let g = [1.0, 0.001][k % 2];
        chunk.iter_mut().for_each(|x| *x *= g);
    }
    cases.push(extreme);
    let base = MixParams::default();
    let mut steps_seen = Vec::new();
    for (i, x) in cases.iter().enumerate() {
        let blocks = Blocks::of_mono(x, SR);
        let found = compression_search::search(x, SR, &blocks, &base, TARGET_LU, &mut |_| true)
            .expect("not cancelled");
        let (walked, ranges) = compression_search::walk(x, SR, &base);
        println!(
            "case {i}: bisection step {} ({} passes), walk step {walked}, ranges {ranges:.2?}",
            found.step, found.decision.passes
        );
        assert_eq!(found.step, walked, "case {i}");
        assert!(
            found.decision.passes <= 5,
            "case {i}: {} passes",
            found.decision.passes
        );
        steps_seen.push(walked);
    }
    steps_seen.sort();
    steps_seen.dedup();
    assert!(
        steps_seen.len() >= 3,
        "the cases cover several outcomes: {steps_seen:?}"
    );
}

#[test]
fn the_processed_vocal_sits_1_77_lu_under_the_backing() {
    for (seed, peak, backing_peak) in [(1u64, 0.5f32, 0.7f32), (2, 0.05, 0.9), (3, 0.9, 0.1)] {
        let v = vocal_line(SR as f32, 30.0, peak, seed);
        let [bl, br] = backing_track(SR as f32, 30.0, 100.0, backing_peak, seed);
        let vocal = track(std::slice::from_ref(&v), SR);
        let backing = track(&[bl.clone(), br.clone()], SR);
        let s = run(&vocal, Some(&backing), None);
        let (l, r) = render(&s.params, &v, SR, s.params.get(ParamId::ReverbTime));
        let vocal_lufs = stereo_lufs(&l, &r, SR);
        let backing_lufs = stereo_lufs(&bl, &br, SR);
        let below = backing_lufs - vocal_lufs;
        println!(
            "seed {seed}: vocal {vocal_lufs:.2}, backing {backing_lufs:.2}: {below:.3} LU under (predicted {:?})",
            s.level.processed_vocal_lufs
        );
        assert!((below - 1.77).abs() <= 0.2, "{below}");
    }
}

#[test]
fn the_same_inputs_give_byte_identical_json() {
    let vocal = track(&[vocal_line(SR as f32, 20.0, 0.5, 5)], SR);
    let [l, r] = backing_track(SR as f32, 25.0, 92.0, 0.7, 6);
    let backing = track(&[l, r], SR);
    let a = run(&vocal, Some(&backing), None).to_json();
    let b = run(&vocal, Some(&backing), None).to_json();
    assert_eq!(a, b);
    // and it reads back to the same suggestion
    let back = MixSuggestion::from_json(&a).unwrap();
    assert_eq!(back.to_json(), a);
    assert_eq!(back.params, run(&vocal, Some(&backing), None).params);
}

#[test]
fn bad_and_odd_inputs_give_a_result_or_one_clear_error() {
    let rate = 48_000;
    // silent vocal
    let silent = track(&[vec![0.0; rate as usize * 5]], rate);
    let err = analyze(
        &AnalysisInput {
            keep: None,
            vad_gate: None,
            vocal: &silent,
            backing: None,
            tempo_bpm: None,
            engine: Engine::Rules,
            models: None,
            targets: None,
        },
        &mut |_, _| true,
    )
    .unwrap_err();
    assert_eq!(err, AnalysisError::SilentVocal);
    assert!(err.to_string().contains("silent"));
    // too short
    let tiny = track(&[vocal_line(rate as f32, 0.2, 0.5, 1)], rate);
    assert!(matches!(
        analyze(
            &AnalysisInput {
                keep: None,
                vad_gate: None,
                vocal: &tiny,
                backing: None,
                tempo_bpm: None,
                engine: Engine::Rules,
                models: None,
                targets: None,
            },
            &mut |_, _| true
        ),
        Err(AnalysisError::VocalTooShort { .. })
    ));

    // silent backing: a result with the EQ and level left alone, and a warning
    let vocal = track(&[vocal_line(rate as f32, 10.0, 0.5, 2)], rate);
    let quiet = track(&vec![vec![0.0; rate as usize * 10]; 2], rate);
    let s = run(&vocal, Some(&quiet), None);
    assert!(s.warnings.iter().any(|w| w.code == "backing_silent"));
    assert_eq!(s.params.get(ParamId::LevelGain), 0.0);
    assert_in_ranges(&s);

    // 2-second files: no loudness range, everything else decided
    let v2 = track(&[vocal_line(rate as f32, 2.0, 0.5, 3)], rate);
    let [l, r] = backing_track(rate as f32, 2.0, 100.0, 0.7, 3);
    let b2 = track(&[l, r], 44_100);
    let s = run(&v2, Some(&b2), None);
    assert_eq!(s.compression.outcome, SearchOutcome::TooShort);
    assert!(s.level.processed_vocal_lufs.is_some());
    assert_in_ranges(&s);

    // a stereo vocal at 22.05 kHz that starts late, against a shorter 96 kHz backing
    let mut late = vec![0.0f32; 22_050 * 8];
    late.extend(vocal_line(22_050.0, 20.0, 0.4, 4));
    let vocal = track(
        &[late.clone(), late.iter().map(|x| 0.7 * x).collect()],
        22_050,
    );
    let [l, r] = backing_track(96_000.0, 15.0, 110.0, 0.8, 4);
    let backing = track(&[l, r], 96_000);
    let s = run(&vocal, Some(&backing), None);
    assert_in_ranges(&s);
    assert!(s.gate.frames_kept < s.gate.frames_total);

    // a backing louder than full scale, and clipping in the vocal
    let mut hot = vocal_line(rate as f32, 10.0, 1.0, 5);
    hot.iter_mut()
        .for_each(|x| *x = (2.0 * *x).clamp(-1.0, 1.0));
    let [l, r] = backing_track(rate as f32, 10.0, 100.0, 3.0, 5);
    let s = run(&track(&[hot], rate), Some(&track(&[l, r], rate)), None);
    assert!(s.warnings.iter().any(|w| w.code == "vocal_clipping"));
    assert!(s.warnings.iter().any(|w| w.code == "backing_clipping"));
    assert_in_ranges(&s);

    // NaN in the vocal
    let mut nan = vocal_line(rate as f32, 10.0, 0.5, 6);
    nan[1000] = f32::NAN;
    nan[2000] = f32::INFINITY;
    let s = run(&track(&[nan], rate), None, None);
    assert!(s.warnings.iter().any(|w| w.code == "vocal_not_finite"));
    assert_in_ranges(&s);

    // an almost silent vocal
    let whisper: Vec<f32> = vocal_line(rate as f32, 10.0, 0.5, 7)
        .iter()
        .map(|x| x * 0.003)
        .collect();
    let s = run(&track(&[whisper], rate), None, None);
    assert!(s.warnings.iter().any(|w| w.code == "vocal_almost_silent"));
}

#[test]
fn a_cancelled_analysis_stops_with_cancelled() {
    let vocal = track(&[dynamic_vocal(30.0, 3)], SR);
    for stop_at in [
        Step::Measuring,
        Step::Stage(Stage::Eq),
        Step::Stage(Stage::Compressor),
        Step::Stage(Stage::Reverb),
        Step::Stage(Stage::Level),
    ] {
        let r = analyze(
            &AnalysisInput {
                keep: None,
                vad_gate: None,
                vocal: &vocal,
                backing: None,
                tempo_bpm: None,
                engine: Engine::Rules,
                models: None,
                targets: None,
            },
            &mut |step, _| step != stop_at,
        );
        assert_eq!(r.unwrap_err(), AnalysisError::Cancelled, "{stop_at:?}");
    }
}

#[test]
fn every_band_and_parameter_is_reported() {
    let vocal = track(&[vocal_line(SR as f32, 15.0, 0.5, 8)], SR);
    let [l, r] = backing_track(SR as f32, 15.0, 100.0, 0.7, 8);
    let s = run(&vocal, Some(&track(&[l, r], SR)), None);
    assert_eq!(s.eq.bands.len(), EQ_BANDS.len());
    let json: serde_json::Value = serde_json::from_str(&s.to_json()).unwrap();
    let params = json["params"].as_object().unwrap();
    assert_eq!(params.len(), PARAMS.len());
    for p in PARAMS {
        assert!(params.contains_key(p.key), "{}", p.key);
    }
    assert_eq!(json["format"], "vocal-automix/suggestion");
    assert_eq!(json["version"], 1);
}

#[test]
fn the_eq_rule_on_band_levels_whose_answer_is_known() {
    use engine::analysis::masking_eq::decide;
    // the backing lives at 63 and 125 Hz; the vocal at 250 Hz – 4 kHz; at the target level the
    // backing covers the vocal's 2 kHz by 8 dB
    let vocal = [
        -45.0, -40.0, -20.0, -18.0, -19.0, -24.0, -28.0, -45.0, -55.0,
    ];
    let backing = [
        -10.0, -12.0, -25.0, -28.0, -28.0, -16.0, -30.0, -40.0, -50.0,
    ];
    let d = decide(&vocal, &backing, 0.0);
    let gain = |hz: f32| d.bands.iter().find(|b| b.hz == hz).unwrap().gain_db;
    // cuts in the backing's two essential bands, as deep as half their prominence, at most 6 dB
    assert!(d.bands[0].backing_essential && d.bands[1].backing_essential);
    assert_eq!(gain(63.0), -6.0);
    assert_eq!(gain(125.0), -6.0);
    // a boost of half the 8 dB by which the backing covers an essential vocal band
    assert!(d.bands[5].vocal_essential);
    assert_eq!(gain(2000.0), 4.0);
    // nothing where the vocal is not covered
    for hz in [250.0, 500.0, 1000.0, 4000.0, 8000.0, 16000.0] {
        assert_eq!(gain(hz), 0.0, "{hz}");
    }
    assert_eq!(d.filters.len(), 3);

    // never more than four filters, the largest kept; never a boost under 250 Hz
    let vocal = [
        -30.0, -25.0, -20.0, -18.0, -19.0, -24.0, -28.0, -45.0, -55.0,
    ];
    let backing = [-5.0, -5.0, -2.0, -2.0, -2.0, -2.0, -2.0, -40.0, -50.0];
    let d = decide(&vocal, &backing, 0.0);
    assert_eq!(d.filters.len(), 4);
    assert!(
        d.filters
            .iter()
            .all(|f| f.gain_db.abs() <= 6.0 && f.q == 1.0)
    );
    assert!(d.filters.iter().all(|f| f.gain_db < 0.0 || f.hz >= 250.0));
    // a vocal with nothing in the backing's essential band gets no cut there
    let vocal = [
        -90.0, -40.0, -20.0, -18.0, -19.0, -24.0, -28.0, -45.0, -55.0,
    ];
    let backing = [
        -10.0, -30.0, -25.0, -28.0, -28.0, -26.0, -30.0, -40.0, -50.0,
    ];
    let d = decide(&vocal, &backing, 0.0);
    assert_eq!(d.bands[0].gain_db, 0.0);
}
