#!/usr/bin/env bash
# Takes docs/editor.png, README's picture of the editor: the built CLAP bundle's editor in a real
# host window (tests/clap-host's clap-editor), after an Analyze & Mix pass on a synthesised song,
# with a professional song from ../shared/audio chosen as the reference when it is there.
# Uses $DISPLAY when set, otherwise a private Xvfb (scripts/test.sh installs it).
#   scripts/editor-screenshot.sh [SCALE] [OUT.png]
set -euo pipefail
cd "$(dirname "$0")/.."
scale="${1:-1}"
out="${2:-docs/editor.png}"

cargo xtask bundle vocal_automix --release
cargo build -q -p clap-test-host --bin clap-editor

xvfb=""
if [ -z "${DISPLAY:-}" ]; then
  command -v Xvfb >/dev/null || { echo "no DISPLAY and no Xvfb (apt install xvfb)" >&2; exit 1; }
  n=$((60 + $$ % 30))
  Xvfb ":$n" -screen 0 2560x1600x24 -nolisten tcp >/dev/null 2>&1 &
  xvfb=$!
  trap 'kill $xvfb 2>/dev/null || true' EXIT
  for _ in $(seq 100); do [ -e "/tmp/.X11-unix/X$n" ] && break; sleep 0.1; done
  export DISPLAY=":$n"
fi
mkdir -p "$(dirname "$out")"
reference="../shared/audio/musdb-excerpts/Al James - Schoolboy Facination/mixture.flac"
if [ -f "$reference" ]; then
  target/debug/clap-editor "target/bundled/Vocal Automix.clap" "$out" "$scale" "$reference"
else
  echo "NOTE: $reference is absent: the picture shows no reference" >&2
  target/debug/clap-editor "target/bundled/Vocal Automix.clap" "$out" "$scale"
fi
