#!/usr/bin/env bash
# Sets Vocal Automix up and lets you hear it: only what a user needs.
#   - X11 and GL headers (Linux), which the plug-in's editor links against,
#   - release builds of the `automix` command line and of the plug-in,
#   - the CLAP and VST3 bundles in target/bundled/,
#   - `automix demo`, which synthesises a sung line and a backing and mixes them into automix-demo/.
# What only the tests need (the IEM plug-ins, Xvfb, the Python hosts and PyTorch, the
# allocation-checked builds) is installed by scripts/test.sh. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/install.sh

install_build_headers

# One command for both: Cargo compiles the plug-in's own dependencies on the second core while
# tract's long chain of crates holds the first (release crates compile in one unit each).
say "building automix and the plug-in (release)"
cargo build --release -p automix -p vocal_automix

say "bundling the plug-in (target/bundled/Vocal Automix.clap, .vst3)"
cargo xtask bundle vocal_automix --release

say "automix demo"
target/release/automix demo --out-dir automix-demo
