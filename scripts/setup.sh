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

if [ "$(uname -s)" = Linux ] && ! { [ -e /usr/include/X11/Xlib.h ] && [ -e /usr/include/xcb/xcb.h ] \
    && [ -e /usr/include/GL/gl.h ] && command -v pkg-config >/dev/null; }; then
  say "installing the X11 and GL headers (the plug-in's editor links against them)"
  apt_install libx11-dev libx11-xcb-dev libxcb1-dev libxcursor-dev libxrandr-dev libgl-dev pkg-config \
    || echo "could not install them: the plug-in may not build (install the X11, xcb and GL development packages)"
fi

# One command for both: Cargo compiles the plug-in's own dependencies on the second core while
# tract's long chain of crates holds the first (release crates compile in one unit each).
say "building automix and the plug-in (release)"
cargo build --release -p automix -p vocal_automix

say "bundling the plug-in (target/bundled/Vocal Automix.clap, .vst3)"
cargo xtask bundle vocal_automix --release

say "automix demo"
target/release/automix demo --out-dir automix-demo
