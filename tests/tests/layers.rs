//! The engine's layers are crates, and their arrows point one way: cargo refuses a circle, and
//! this test refuses an arrow that runs up the layers or skips to a crate it has no business
//! with (docs/architecture.md draws the allowed ones). Read from `cargo metadata`.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

/// Each workspace crate and the workspace crates it may depend on (normal, build or dev).
/// `workspace-hack` holds shared features and may be depended on by anyone.
const ALLOWED: &[(&str, &[&str])] = &[
    ("automix-dsp", &[]),
    ("automix-inference", &[]),
    ("automix-audio-io", &["automix-dsp"]),
    ("automix-separation", &["automix-dsp", "automix-inference"]),
    (
        "automix-assistant",
        &[
            "automix-dsp",
            "automix-audio-io",
            "automix-inference",
            "automix-separation",
        ],
    ),
    (
        "automix-evaluation",
        &[
            "automix-dsp",
            "automix-audio-io",
            "automix-separation",
            "automix-assistant",
        ],
    ),
    (
        "engine",
        &[
            "automix-dsp",
            "automix-audio-io",
            "automix-inference",
            "automix-separation",
            "automix-assistant",
            "automix-evaluation",
            "automix-tests",
        ],
    ),
    ("automix-tests", &["engine"]),
    ("automix", &["engine", "automix-tests"]),
    ("vocal_automix", &["engine"]),
    ("automix-python", &["engine", "automix"]),
    ("clap-test-host", &["engine", "automix", "automix-tests"]),
    ("xtask", &[]),
    ("workspace-hack", &[]),
];

fn workspace_arrows() -> BTreeMap<String, BTreeSet<String>> {
    let out = Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).expect("metadata is JSON");
    let packages = meta["packages"].as_array().expect("packages");
    let names: BTreeSet<String> = packages
        .iter()
        .map(|p| p["name"].as_str().expect("name").to_string())
        .collect();
    packages
        .iter()
        .map(|p| {
            let deps = p["dependencies"]
                .as_array()
                .expect("dependencies")
                .iter()
                .map(|d| d["name"].as_str().expect("name").to_string())
                .filter(|d| names.contains(d) && d != "workspace-hack")
                .collect();
            (p["name"].as_str().expect("name").to_string(), deps)
        })
        .collect()
}

#[test]
fn every_arrow_between_the_crates_is_an_allowed_one() {
    let allowed: BTreeMap<&str, BTreeSet<&str>> = ALLOWED
        .iter()
        .map(|(k, v)| (*k, v.iter().copied().collect()))
        .collect();
    let arrows = workspace_arrows();
    let mut wrong = Vec::new();
    for (krate, deps) in &arrows {
        let Some(ok) = allowed.get(krate.as_str()) else {
            wrong.push(format!(
                "{krate} is not in the table of layers: add it to ALLOWED and docs/architecture.md"
            ));
            continue;
        };
        for d in deps.iter().filter(|d| !ok.contains(d.as_str())) {
            wrong.push(format!("{krate} → {d}"));
        }
    }
    assert!(
        wrong.is_empty(),
        "arrows the layers do not allow:\n  {}",
        wrong.join("\n  ")
    );
    // the layers themselves are all there (a table of crates that no longer exist keeps nothing)
    for layer in ALLOWED.iter().map(|(k, _)| k) {
        assert!(
            arrows.contains_key(*layer),
            "{layer} is gone from the workspace"
        );
    }
}

#[test]
fn the_layers_below_the_assistant_know_nothing_of_decisions_or_files() {
    let arrows = workspace_arrows();
    for low in ["automix-dsp", "automix-inference"] {
        assert!(
            arrows[low].is_empty(),
            "{low} depends on {:?}; it is a bottom layer",
            arrows[low]
        );
    }
    assert!(
        !arrows["automix-separation"].contains("automix-audio-io"),
        "separation works on samples; decoding belongs to the callers"
    );
}
