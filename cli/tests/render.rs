//! `automix render` and `automix params` end to end: the real binary on real files.

use std::process::{Command, Output};

use automix_tests::{TempDir, read_wav, shared_audio, stderr, write_wav};
use engine::synth::vocal_line;
use engine::{MixParams, ParamId, VocalChain};

fn automix(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_automix"))
        .args(args)
        .output()
        .expect("automix runs")
}

/// `automix render --vocal V --params P -o OUT` and any further arguments.
fn render(vocal: &str, params: &str, out: &str, more: &[&str]) -> Output {
    let mut args = vec!["render", "--vocal", vocal, "--params", params, "-o", out];
    args.extend_from_slice(more);
    automix(&args)
}

/// A parameter file that sets every stage, and the same values as MixParams.
fn every_stage(dir: &TempDir) -> (String, MixParams) {
    let set = [
        (ParamId::EqGain250, -4.0),
        (ParamId::EqGain4k, 3.0),
        (ParamId::EqHighpassOn, 1.0),
        (ParamId::EqHighpassFreq, 90.0),
        (ParamId::CompThreshold, -24.0),
        (ParamId::CompRatio, 3.5),
        (ParamId::CompMakeup, 2.0),
        (ParamId::ReverbTime, 1.8),
        (ParamId::ReverbDryWet, 0.15),
        (ParamId::ReverbFdnSize, 32.0),
        (ParamId::LevelGain, -2.0),
    ];
    let mut p = MixParams::default();
    let mut json = serde_json::Map::new();
    for (id, v) in set {
        p.set(id, v);
        json.insert(id.key().into(), v.into());
    }
    let path = dir.s("every_stage.json");
    std::fs::write(&path, serde_json::Value::Object(json).to_string()).unwrap();
    (path, p)
}

/// What the engine makes of the same samples, for comparison with the binary's output.
fn engine_render(p: &MixParams, rate: u32, mono: &[f32]) -> Vec<Vec<f32>> {
    let mut c = VocalChain::new();
    c.set_params_immediate(p);
    c.prepare(rate as f32).unwrap();
    let (mut l, mut r) = (mono.to_vec(), vec![0.0; mono.len()]);
    c.process_mono(&mut l, &mut r);
    vec![l, r]
}

fn max_diff(a: &[Vec<f32>], b: &[Vec<f32>]) -> f32 {
    a.iter()
        .flatten()
        .zip(b.iter().flatten())
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

#[test]
fn renders_a_real_vocal_and_mix_with_every_stage_set() {
    let (Some(vocal), Some(backing)) = (
        shared_audio("clips/vocadito_1_vocal.wav"),
        shared_audio("backings/vibe_ace_instrumental.ogg"),
    ) else {
        return;
    };
    let dir = TempDir::new("cli-real");
    let (params, p) = every_stage(&dir);
    let o = render(
        vocal.to_str().unwrap(),
        &params,
        &dir.s("v.wav"),
        &[
            "--backing",
            backing.to_str().unwrap(),
            "--mix-out",
            &dir.s("mix.wav"),
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let (rate, input) = read_wav(&vocal);
    let (out_rate, out) = read_wav(&dir.path("v.wav"));
    let written = hound::WavReader::open(dir.path("v.wav")).unwrap().spec();
    assert_eq!(
        (written.bits_per_sample, written.sample_format),
        (32, hound::SampleFormat::Float)
    );
    assert_eq!((rate, out_rate, out.len()), (44_100, 44_100, 2));
    assert_eq!(
        out[0].len(),
        input[0].len(),
        "the processed vocal keeps the input's length"
    );
    assert!(out.iter().flatten().all(|v| v.is_finite()));
    // the binary is the engine and nothing else: same samples out for the same samples in
    assert!(max_diff(&out, &engine_render(&p, rate, &input[0])) < 1e-6);
    // and the engine did something: every stage was set
    assert!(max_diff(&out, &[input[0].clone(), input[0].clone()]) > 0.01);
    // the mix lasts as long as the longer of the two (the 61.5 s backing), and is the vocal plus
    // something of the backing's level wherever the vocal sounds
    let (_, mix) = read_wav(&dir.path("mix.wav"));
    let seconds = mix[0].len() as f32 / 44_100.0;
    assert!((61.4..61.5).contains(&seconds), "{seconds}");
    let backing_part: Vec<f32> = mix[0][..out[0].len()]
        .iter()
        .zip(&out[0])
        .map(|(m, v)| m - v)
        .collect();
    let rms = (backing_part.iter().map(|v| v * v).sum::<f32>() / backing_part.len() as f32).sqrt();
    assert!(rms > 0.01 && rms < 1.0, "backing in the mix at RMS {rms}");
    assert!(
        mix[0][out[0].len()..].iter().any(|v| v.abs() > 0.01),
        "the backing goes on after the vocal"
    );
}

#[test]
fn mono_and_stereo_vocals_at_any_supported_rate() {
    let dir = TempDir::new("cli-rates");
    let (params, p) = every_stage(&dir);
    for rate in [22_050u32, 48_000, 96_000, 192_000] {
        let x = vocal_line(rate as f32, 1.0, 0.5, 3);
        write_wav(&dir.path("in.wav"), rate, std::slice::from_ref(&x));
        let o = render(&dir.s("in.wav"), &params, &dir.s("out.wav"), &[]);
        assert!(o.status.success(), "{rate}: {}", stderr(&o));
        let (out_rate, out) = read_wav(&dir.path("out.wav"));
        assert_eq!(out_rate, rate);
        assert!(
            max_diff(&out, &engine_render(&p, rate, &x)) < 1e-6,
            "{rate}"
        );
    }
    let x = vocal_line(44_100.0, 1.0, 0.5, 4);
    write_wav(
        &dir.path("st.wav"),
        44_100,
        &[x.clone(), x.iter().map(|v| -0.5 * v).collect()],
    );
    let o = render(
        &dir.s("st.wav"),
        &params,
        &dir.s("out.wav"),
        &["--tail", "2"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let (_, out) = read_wav(&dir.path("out.wav"));
    assert_eq!(
        out[0].len(),
        3 * 44_100,
        "one second of vocal and two of tail"
    );
    assert!(
        out[0][2 * 44_100..].iter().any(|v| v.abs() > 1e-6),
        "the tail rings on"
    );
}

#[test]
fn an_8_khz_file_is_rendered_at_44_1_khz_with_a_warning() {
    let dir = TempDir::new("cli-8k");
    let (params, _) = every_stage(&dir);
    write_wav(
        &dir.path("in.wav"),
        8_000,
        &[vocal_line(8_000.0, 1.0, 0.5, 5)],
    );
    let o = render(&dir.s("in.wav"), &params, &dir.s("out.wav"), &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("8000 Hz is outside") && stderr(&o).contains("rendering at 44100 Hz"),
        "{}",
        stderr(&o)
    );
    let (rate, out) = read_wav(&dir.path("out.wav"));
    assert_eq!((rate, out[0].len()), (44_100, 44_100));
}

#[test]
fn nan_samples_are_silenced_with_a_warning() {
    let dir = TempDir::new("cli-nan");
    let (params, _) = every_stage(&dir);
    let mut x = vocal_line(44_100.0, 1.0, 0.5, 6);
    x[100] = f32::NAN;
    x[200] = f32::INFINITY;
    write_wav(&dir.path("in.wav"), 44_100, &[x]);
    let o = render(&dir.s("in.wav"), &params, &dir.s("out.wav"), &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("2 samples are NaN or infinite"),
        "{}",
        stderr(&o)
    );
    let (_, out) = read_wav(&dir.path("out.wav"));
    assert!(out.iter().flatten().all(|v| v.is_finite()));
}

#[test]
fn out_of_range_values_are_clamped_and_said() {
    let dir = TempDir::new("cli-clamp");
    write_wav(
        &dir.path("in.wav"),
        44_100,
        &[vocal_line(44_100.0, 0.5, 0.5, 7)],
    );
    std::fs::write(
        dir.path("p.json"),
        r#"{"level_gain_db": 99, "comp_ratio": 0.5}"#,
    )
    .unwrap();
    let o = render(&dir.s("in.wav"), &dir.s("p.json"), &dir.s("out.wav"), &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(
        e.contains("`level_gain_db` = 99 is outside -40…20 dB; using 20")
            && e.contains("`comp_ratio` = 0.5"),
        "{e}"
    );
}

/// Each bad input: exit code 1, one line that names the problem, no output file left behind.
/// `render` of `args` (vocal, parameters) fails with exit code 1, one error line that says
/// `want`, no panic and no output file.
fn assert_one_clear_error(dir: &TempDir, args: &[String], want: &str) {
    let o = render(&args[0], &args[1], &dir.s("out.wav"), &[]);
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{args:?}: {e}");
    assert!(e.contains(want), "{args:?}: {e}");
    assert_eq!(
        e.lines()
            .filter(|l| l.starts_with("automix: error:"))
            .count(),
        1,
        "{e}"
    );
    assert!(!e.contains("panicked"), "{e}");
    assert!(
        !dir.path("out.wav").exists(),
        "{args:?} left an output file"
    );
}

#[test]
fn bad_inputs_get_one_clear_line_and_no_output() {
    let dir = TempDir::new("cli-bad");
    let (params, _) = every_stage(&dir);
    write_wav(
        &dir.path("good.wav"),
        44_100,
        &[vocal_line(44_100.0, 0.5, 0.5, 8)],
    );
    write_wav(&dir.path("zero.wav"), 44_100, &[vec![]]);
    std::fs::write(dir.path("empty.wav"), b"").unwrap();
    std::fs::write(dir.path("text.wav"), b"this is not audio at all").unwrap();
    std::fs::write(
        dir.path("unknown.json"),
        r#"{"level_gian_db": 1, "reverb_size": 3}"#,
    )
    .unwrap();
    std::fs::write(dir.path("array.json"), "[1, 2]").unwrap();
    std::fs::write(dir.path("broken.json"), r#"{"level_gain_db": "#).unwrap();
    std::fs::write(dir.path("wrong_type.json"), r#"{"eq_bypass": "sometimes"}"#).unwrap();
    let good = dir.s("good.wav");
    let cases: Vec<(Vec<String>, &str)> = vec![
        (vec![dir.s("missing.wav"), params.clone()], "cannot open"),
        (
            vec![dir.s("empty.wav"), params.clone()],
            "is empty (0 bytes)",
        ),
        (
            vec![dir.s("text.wav"), params.clone()],
            "is not an audio file this tool reads",
        ),
        (
            vec![dir.s("zero.wav"), params.clone()],
            "contains no audio samples",
        ),
        (vec![good.clone(), dir.s("missing.json")], "cannot read"),
        (
            vec![good.clone(), dir.s("unknown.json")],
            "unknown parameter `level_gian_db` (did you mean `level_gain_db`?), `reverb_size`",
        ),
        (
            vec![good.clone(), dir.s("array.json")],
            "must be a JSON object",
        ),
        (
            vec![good.clone(), dir.s("broken.json")],
            "is not valid JSON",
        ),
        (
            vec![good.clone(), dir.s("wrong_type.json")],
            "`eq_bypass` is \"sometimes\", expected true or false",
        ),
    ];
    for (args, want) in cases {
        assert_one_clear_error(&dir, &args, want);
    }
    // an output that cannot be written: the error names it, and nothing half-written remains
    let o = render(&good, &params, &dir.s("no/such/dir/out.wav"), &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("cannot write"), "{}", stderr(&o));
    // a mix without a backing to mix is a usage error; a backing alone is what the ride follows
    let o = render(
        &good,
        &params,
        &dir.s("out.wav"),
        &["--mix-out", &dir.s("mix.wav")],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let o = render(&good, &params, &dir.s("out.wav"), &["--backing", &good]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!dir.path("mix.wav").exists());
}

#[test]
fn a_truncated_file_renders_what_is_there_with_a_warning() {
    let dir = TempDir::new("cli-trunc");
    let (params, _) = every_stage(&dir);
    write_wav(
        &dir.path("full.wav"),
        44_100,
        &[vocal_line(44_100.0, 1.0, 0.5, 9)],
    );
    let bytes = std::fs::read(dir.path("full.wav")).unwrap();
    std::fs::write(dir.path("cut.wav"), &bytes[..bytes.len() / 2]).unwrap();
    let o = render(&dir.s("cut.wav"), &params, &dir.s("out.wav"), &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("the file ends early (truncated?)"),
        "{}",
        stderr(&o)
    );
    let (_, out) = read_wav(&dir.path("out.wav"));
    let frames = out[0].len();
    assert!(frames > 20_000 && frames < 23_000, "{frames}");
}

#[test]
fn params_lists_every_parameter_in_each_form() {
    let table = automix(&["params"]);
    assert!(table.status.success());
    let text = String::from_utf8_lossy(&table.stdout);
    for p in engine::PARAMS {
        assert!(text.contains(p.key), "{} missing from the table", p.key);
    }
    let json: serde_json::Value =
        serde_json::from_slice(&automix(&["params", "--json"]).stdout).unwrap();
    assert_eq!(json.as_array().unwrap().len(), engine::PARAMS.len());
    let schema: serde_json::Value =
        serde_json::from_slice(&automix(&["params", "--schema"]).stdout).unwrap();
    assert_eq!(schema["additionalProperties"], false);
}
