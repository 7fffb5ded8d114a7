//! The CLAP community's validator (`../shared/tools/bin/clap-validator`, see its README) on the
//! release bundle: every test that applies must pass (44 tests: scanning, descriptor, audio at
//! rates from 1 kHz to 768 kHz and many block sizes, parameter fuzzing and conversions, state
//! save/load reproducibility, transport fuzzing). Without the validator or the bundle the test
//! says so and skips; `AUTOMIX_REQUIRE_PLUGIN` (CI) makes that a failure.

use std::process::Command;

#[test]
fn clap_validator_passes_every_test_that_applies() {
    let (Some(validator), Some(bundle)) = (
        automix_tests::shared_tool("clap-validator"),
        automix_tests::release_bundle("clap"),
    ) else {
        return;
    };
    let o = Command::new(&validator)
        .arg("validate")
        .arg(&bundle)
        .env("NO_COLOR", "1")
        .output()
        .expect("clap-validator runs");
    let out = plain(&String::from_utf8_lossy(&o.stdout));
    let summary = out
        .lines()
        .find(|l| l.contains("tests run"))
        .unwrap_or("no summary")
        .to_string();
    println!("clap-validator: {summary}");
    let failed = summary
        .split(',')
        .find(|p| p.contains("failed"))
        .and_then(|p| p.split_whitespace().next())
        .and_then(|n| n.parse::<u32>().ok());
    assert!(
        o.status.success() && failed == Some(0),
        "clap-validator: {summary}\n{out}"
    );
}

/// `text` without its terminal colour codes (the validator colours even into a pipe).
fn plain(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // ESC [ … letter
            for d in chars.by_ref() {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}
