//! Helpers shared by the tests of every crate: WAV files, frequency responses, and finding and
//! running the IEM reference plug-ins.
//!
//! The reference needs three things this repository does not ship: the research's host scripts
//! in `../shared/reference`, Debian's `iem-plugin-suite-vst`, and a Python with numpy, scipy and
//! soundfile (`IEM_PYTHON`, else `target/iem-venv/bin/python`, which `scripts/test.sh` makes).
//! Where one is missing a test says so on stderr and skips; with `AUTOMIX_REQUIRE_IEM` set (CI
//! sets it) it fails instead, so a green CI run never hides a skipped comparison.

pub mod fuzz;
pub mod measure;
pub mod vst3_host;

use std::path::{Path, PathBuf};
use std::process::Command;

pub struct Iem {
    python: PathBuf,
    reference: PathBuf,
}

pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Runs a pytest suite (`tests`, from `dir`) with `python` and the `automix` binary under test in
/// `AUTOMIX_BIN`, the built-in models (no `VOCAL_AUTOMIX_MODELS`), and `env`; prints its output
/// and fails with it unless every test passed.
pub fn pytest(python: &Path, dir: &Path, tests: &str, automix: &str, env: &[(&str, &str)]) {
    let out = Command::new(python)
        .args(["-m", "pytest", "-q", "-s", "-p", "no:cacheprovider", tests])
        .current_dir(dir)
        .env("AUTOMIX_BIN", automix)
        .envs(env.iter().copied())
        .env_remove("VOCAL_AUTOMIX_MODELS")
        .output()
        .unwrap();
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    println!("{log}");
    assert!(out.status.success(), "pytest failed:\n{log}");
}

/// The release bundle `target/bundled/Vocal Automix.<ext>` (`clap`, `vst3`), or `None` after
/// saying loudly that it is not built: a skip, a failure when `AUTOMIX_REQUIRE_PLUGIN` is set
/// (CI sets it).
pub fn release_bundle(ext: &str) -> Option<PathBuf> {
    let p = workspace().join(format!("target/bundled/Vocal Automix.{ext}"));
    if p.exists() {
        return Some(p);
    }
    plugin_part_missing(format!(
        "{} is not built (cargo xtask bundle vocal_automix --release)",
        p.display()
    ))
}

/// A tool of `../shared/tools/bin` (the formats' validators), or `None` said loudly as
/// [`release_bundle`] says it.
pub fn shared_tool(name: &str) -> Option<PathBuf> {
    let p = workspace().join("../shared/tools/bin").join(name);
    if p.exists() {
        return Some(p);
    }
    plugin_part_missing(format!(
        "{} is absent (../shared/tools/README.md)",
        p.display()
    ))
}

fn plugin_part_missing<T>(why: String) -> Option<T> {
    eprintln!("SKIPPED: {why}");
    assert!(
        std::env::var_os("AUTOMIX_REQUIRE_PLUGIN").is_none(),
        "AUTOMIX_REQUIRE_PLUGIN is set but {why}"
    );
    None
}

const PLUGIN_DIR: &str = "/usr/lib/x86_64-linux-gnu/iem-plugin-suite/vst";

impl Iem {
    /// The reference, or `None` after saying loudly why it is not there.
    pub fn find() -> Option<Iem> {
        let python = std::env::var_os("IEM_PYTHON")
            .map(PathBuf::from)
            .unwrap_or_else(|| workspace().join("target/iem-venv/bin/python"));
        let reference = workspace().join("../shared/reference");
        let missing = if !reference.join("iem_host.py").exists() {
            Some(format!(
                "{} (the research's reference host)",
                reference.display()
            ))
        } else if !Path::new(PLUGIN_DIR).join("libMultiEQ.so").exists() {
            Some(format!(
                "{PLUGIN_DIR} (apt-get install iem-plugin-suite-vst)"
            ))
        } else if !python.exists() {
            Some(format!(
                "{} (run scripts/test.sh, or set IEM_PYTHON)",
                python.display()
            ))
        } else {
            None
        };
        match missing {
            None => Some(Iem { python, reference }),
            Some(what) => {
                eprintln!("SKIPPED: the IEM reference is not installed: {what} is missing");
                assert!(
                    std::env::var_os("AUTOMIX_REQUIRE_IEM").is_none(),
                    "AUTOMIX_REQUIRE_IEM is set but {what} is missing"
                );
                None
            }
        }
    }

    /// Renders `channels` at `rate` through one IEM plug-in (see `tests/iem/render_iem.py`).
    pub fn render(
        &self,
        job: &serde_json::Value,
        rate: u32,
        channels: &[Vec<f32>],
    ) -> Vec<Vec<f32>> {
        let dir =
            std::env::temp_dir().join(format!("automix-iem-{}-{}", std::process::id(), unique()));
        std::fs::create_dir_all(&dir).unwrap();
        let (input, output) = (dir.join("in.wav"), dir.join("out.wav"));
        write_wav(&input, rate, channels);
        let script = workspace().join("tests/iem/render_iem.py");
        let out = Command::new(&self.python)
            .arg(script)
            .arg(&self.reference)
            .arg(job.to_string())
            .arg(&input)
            .arg(&output)
            .output()
            .expect("the reference Python runs");
        assert!(
            out.status.success(),
            "IEM render failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let (_, y) = read_wav(&output);
        let _ = std::fs::remove_dir_all(&dir);
        y
    }
}

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

pub fn write_wav(path: &Path, rate: u32, channels: &[Vec<f32>]) {
    let spec = hound::WavSpec {
        channels: channels.len() as u16,
        sample_rate: rate,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for i in 0..channels[0].len() {
        for c in channels {
            w.write_sample(c[i]).unwrap();
        }
    }
    w.finalize().unwrap();
}

/// Reads a WAV file (float or integer samples) as one vector per channel.
pub fn read_wav(path: &Path) -> (u32, Vec<Vec<f32>>) {
    let mut r = hound::WavReader::open(path).unwrap();
    let spec = r.spec();
    let n = spec.channels as usize;
    let samples: Vec<f32> = match spec.sample_format {
        hound::SampleFormat::Float => r.samples::<f32>().map(|s| s.unwrap()).collect(),
        hound::SampleFormat::Int => {
            let scale = (1u64 << (spec.bits_per_sample - 1)) as f32;
            r.samples::<i32>()
                .map(|s| s.unwrap() as f32 / scale)
                .collect()
        }
    };
    (
        spec.sample_rate,
        (0..n)
            .map(|c| samples.iter().skip(c).step_by(n).copied().collect())
            .collect(),
    )
}

/// |H(e^jw)| in dB of a finite response, by direct evaluation of its DTFT.
pub fn response_db(h: &[f32], freq: f64, sr: f64) -> f64 {
    let w = 2.0 * std::f64::consts::PI * freq / sr;
    let (mut re, mut im) = (0.0f64, 0.0f64);
    let (c, s) = (w.cos(), w.sin());
    // rotate a phasor instead of calling sin/cos per sample
    let (mut pr, mut pi) = (1.0f64, 0.0f64);
    for &x in h {
        re += x as f64 * pr;
        im -= x as f64 * pi;
        let npr = pr * c - pi * s;
        pi = pr * s + pi * c;
        pr = npr;
    }
    10.0 * (re * re + im * im).log10()
}

/// 1/3-octave centre frequencies (base-10 series) from 20 Hz up to `max`.
pub fn third_octaves(max: f64) -> Vec<f64> {
    (0..)
        .map(|k| 1000.0 * 10f64.powf((k as f64 - 17.0) / 10.0))
        .take_while(|&f| f <= max)
        .filter(|&f| f >= 19.0)
        .collect()
}

pub fn energy(x: &[f32]) -> f64 {
    x.iter().map(|&v| (v as f64).powi(2)).sum()
}

/// A file of `../shared/audio`, or `None` after saying loudly that it is absent. With
/// `AUTOMIX_REQUIRE_SHARED` set (CI sets it) a missing file fails the test instead.
pub fn shared_audio(rel: &str) -> Option<PathBuf> {
    let p = workspace().join("../shared/audio").join(rel);
    if p.exists() {
        return Some(p);
    }
    eprintln!(
        "SKIPPED: {} is absent (../shared/audio is not beside the repository); this test needs it",
        p.display()
    );
    if std::env::var_os("AUTOMIX_REQUIRE_SHARED").is_some() {
        panic!(
            "AUTOMIX_REQUIRE_SHARED is set but {} is missing",
            p.display()
        );
    }
    None
}

/// Integrated loudness (LUFS) and loudness range (LU) of a file's channels, measured by the
/// `ebur128` crate — an implementation independent of the engine's.
pub fn ebu_loudness(rate: u32, channels: &[Vec<f32>]) -> (f64, f64) {
    use ebur128::{EbuR128, Mode};
    let mut m = EbuR128::new(channels.len() as u32, rate, Mode::I | Mode::LRA).unwrap();
    let planar: Vec<&[f32]> = channels.iter().map(|c| c.as_slice()).collect();
    m.add_frames_planar_f32(&planar).unwrap();
    (m.loudness_global().unwrap(), m.loudness_range().unwrap())
}

/// A stereo signal through the engine's chain with `params`, applied from the first sample: the
/// reference a plug-in host's output is compared with.
pub fn engine_render_stereo(
    params: &engine::MixParams,
    rate: f32,
    input: &[Vec<f32>; 2],
) -> [Vec<f32>; 2] {
    engine_render_stereo_with(params, rate, input, None)
}

/// [`engine_render_stereo`] against a backing track on the sidechain (what the ride follows).
pub fn engine_render_stereo_with(
    params: &engine::MixParams,
    rate: f32,
    input: &[Vec<f32>; 2],
    backing: Option<&[Vec<f32>; 2]>,
) -> [Vec<f32>; 2] {
    let mut chain = engine::VocalChain::new();
    chain.set_params_immediate(params);
    chain.prepare(rate).expect("a supported rate");
    let [mut l, mut r] = input.clone();
    let side = backing.map(|[a, b]| [a.as_slice(), b.as_slice()]);
    chain.process_stereo_with(&mut l, &mut r, side);
    [l, r]
}

/// The largest sample difference between `got` and `want`, in dB relative to `want`'s peak.
pub fn difference_db(got: &[Vec<f32>], want: &[Vec<f32>]) -> f32 {
    let peak = want.iter().flatten().fold(0.0f32, |m, x| m.max(x.abs()));
    let diff = got
        .iter()
        .zip(want)
        .flat_map(|(g, w)| g.iter().zip(w))
        .fold(0.0f32, |m, (a, b)| m.max((a - b).abs()));
    20.0 * (diff / peak).log10()
}

/// A scratch folder under the system's temporary directory, named for the test and the process,
/// emptied when made and removed when dropped.
pub struct TempDir(PathBuf, bool);

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        let d = std::env::temp_dir().join(format!("automix-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        TempDir(d, false)
    }

    pub fn path(&self, f: &str) -> PathBuf {
        self.0.join(f)
    }

    /// Left in place when dropped (for a person to look at).
    pub fn keep(&mut self) {
        self.1 = true;
    }

    /// The path of `f` as text, for command lines.
    pub fn s(&self, f: &str) -> String {
        self.path(f).display().to_string()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if !self.1 {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// A finished command's standard error as text.
pub fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
