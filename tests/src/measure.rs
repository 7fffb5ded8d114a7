//! What the bench binaries share: one core, and a child process's wall time and peak memory.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// The flag a bench binary answers by running [`helper`] (see [`run_measured`]).
pub const RSS_OF: &str = "--rss-of";

/// Runs the rest of the process (and the children it starts) on one core.
pub fn pin_to_one_core() -> bool {
    // SAFETY: a plain syscall on a zeroed, then filled, CPU set of this process.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(0, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) == 0
    }
}

/// Wall time and peak resident memory (bytes) of `binary args`. Measured from a small helper
/// process (the calling bench again, freshly started with [`RSS_OF`], which must call
/// [`helper`]): a child's peak memory counts its parent's pages until it execs, and the bench
/// holds the audio of its in-process runs.
pub fn run_measured(binary: &Path, args: &[&std::ffi::OsStr]) -> (f64, u64) {
    let out = Command::new(std::env::current_exe().unwrap())
        .arg(RSS_OF)
        .arg(binary)
        .args(args)
        .output()
        .expect("the helper runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let mut it = text.split_whitespace();
    let wall: f64 = it.next().unwrap().parse().unwrap();
    let rss: u64 = it.next().unwrap().parse().unwrap();
    (wall, rss)
}

/// The helper: runs the command given after [`RSS_OF`] and prints its wall time and peak memory.
pub fn helper(args: &[String]) -> ! {
    let (wall, rss) = measure_child(Command::new(&args[0]).args(&args[1..]));
    println!("{wall} {rss}");
    std::process::exit(0);
}

// The child is reaped by wait4 (which std's wait cannot do: it does not return the rusage).
#[allow(clippy::zombie_processes)]
fn measure_child(cmd: &mut Command) -> (f64, u64) {
    let t = Instant::now();
    let child = cmd
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("the measured command starts");
    let mut status = 0;
    // SAFETY: waits for our own child and fills a zeroed rusage.
    let rusage = unsafe {
        let mut ru: libc::rusage = std::mem::zeroed();
        let pid = libc::wait4(child.id() as i32, &mut status, 0, &mut ru);
        assert_eq!(pid, child.id() as i32, "wait4");
        ru
    };
    let wall = t.elapsed().as_secs_f64();
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "the measured command failed"
    );
    // ru_maxrss is in kilobytes on Linux
    (wall, rusage.ru_maxrss as u64 * 1024)
}

pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

pub fn best(v: &[f64]) -> f64 {
    v.iter().copied().fold(f64::INFINITY, f64::min)
}

/// ONNX Runtime's shared library: `$VOCAL_AUTOMIX_ONNXRUNTIME`, else the one inside the training
/// venv's onnxruntime wheel (`scripts/training-venv.sh`).
pub fn onnxruntime_library() -> Option<PathBuf> {
    let env = engine::analysis::cnn_backend::ONNXRUNTIME_ENV;
    if let Some(p) = std::env::var_os(env).filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    let venv = crate::workspace().join("target/training-venv/lib");
    std::fs::read_dir(&venv).ok()?.flatten().find_map(|python| {
        std::fs::read_dir(python.path().join("site-packages/onnxruntime/capi"))
            .ok()?
            .flatten()
            .map(|e| e.path())
            .find(|p| {
                p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with("libonnxruntime.so"))
            })
    })
}

/// ONNX Runtime's library for a bench's second pass, taken out of the environment so the first
/// pass runs on tract. Read before it is removed: a library the user named is the one used.
pub fn take_onnxruntime_library() -> Option<PathBuf> {
    let library = onnxruntime_library();
    // SAFETY: called first thing in a bench's main, single-threaded, before anything else
    // reads the environment.
    unsafe { std::env::remove_var(engine::analysis::cnn_backend::ONNXRUNTIME_ENV) };
    library
}

/// Runs this bench again with `flag`, on ONNX Runtime's `library`, or says why it cannot.
pub fn rerun_on_onnxruntime(flag: &str, library: Option<PathBuf>) {
    let env = engine::analysis::cnn_backend::ONNXRUNTIME_ENV;
    match library {
        Some(lib) => {
            let status = Command::new(std::env::current_exe().unwrap())
                .arg(flag)
                .env(env, &lib)
                .status()
                .expect("the bench runs itself again");
            assert!(status.success());
        }
        None => println!(
            "ONNX Runtime: not measured (no library: set {env}, or run scripts/training-venv.sh)"
        ),
    }
}
