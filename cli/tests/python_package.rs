//! The `vocal_automix` Python package (python/): its pytest suite, run against this build of
//! `automix` — the package's suggestions and samples equal the command line's, its errors are
//! the command line's, and its Ray job survives a killed worker and a killed driver on a real
//! two-node cluster on the loopback. scripts/test.sh builds the wheel (maturin, the dev profile,
//! sharing this build's dependencies) and installs it into target/fleet-venv.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

use automix_tests::{pytest, workspace};

fn skip(why: &str) {
    eprintln!("SKIPPED: {why}; the Python package's tests did not run");
    assert!(
        std::env::var_os("AUTOMIX_REQUIRE_FLEET").is_none(),
        "AUTOMIX_REQUIRE_FLEET is set but {why}"
    );
}

/// The newest modification among the files under `dir` with one of `exts`.
fn newest(dir: &Path, exts: &[&str]) -> SystemTime {
    let mut t = SystemTime::UNIX_EPOCH;
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        let m = if p.is_dir() {
            newest(&p, exts)
        } else if exts.iter().any(|x| p.extension().is_some_and(|e| e == *x)) {
            e.metadata().and_then(|m| m.modified()).unwrap_or(t)
        } else {
            continue;
        };
        t = t.max(m);
    }
    t
}

/// Where the installed package's compiled module is, if it imports.
fn installed_module(python: &Path) -> Option<PathBuf> {
    let out = Command::new(python)
        .args([
            "-c",
            "import vocal_automix._engine as e, ray, pyarrow; print(e.__file__)",
        ])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
}

#[test]
fn python_package_pytest() {
    let python = workspace().join("target/fleet-venv/bin/python");
    let Some(module) = installed_module(&python) else {
        return skip(&format!(
            "no {} with vocal_automix, ray and pyarrow (scripts/fleet-venv.sh, then scripts/test.sh builds the wheel)",
            python.display()
        ));
    };
    // a wheel older than the code it wraps would test yesterday's engine
    let built = std::fs::metadata(&module)
        .and_then(|m| m.modified())
        .unwrap();
    let root = workspace();
    let layers = std::fs::read_dir(root.join("crates"))
        .unwrap()
        .map(|e| e.unwrap().path().join("src"));
    let sources = [
        "python/src",
        "python/vocal_automix",
        "cli/src",
        "engine/src",
    ]
    .iter()
    .map(|d| root.join(d))
    .chain(layers)
    .map(|d| newest(&d, &["rs", "py", "pyi"]))
    .max()
    .unwrap();
    if sources > built {
        return skip(&format!(
            "{} is older than its sources: scripts/test.sh builds and installs it again",
            module.display()
        ));
    }
    // from the root: `python -m` puts the working folder on the path, and python/ holds the
    // package's sources without its compiled module
    pytest(
        &python,
        &root,
        "python/tests",
        env!("CARGO_BIN_EXE_automix"),
        &[("AUTOMIX_REQUIRE_FLEET", "1")],
    );
}
