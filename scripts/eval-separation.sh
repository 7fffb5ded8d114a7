#!/usr/bin/env bash
# The shipped separator on the five professional songs of ../shared/audio (musdb-preview and
# musdb-excerpts: 44.1 kHz, wet vocals): `automix separate` on each mixture, then BSS Eval images
# (mir_eval, 1-second windows, the median per song) of the vocal and the accompaniment against
# the stems. The MIR-1K tables come from scripts/train-separation.sh.
#   scripts/eval-separation.sh [SHARED_AUDIO]       (default ../shared/audio)
set -euo pipefail
cd "$(dirname "$0")/.."
audio=$(cd "${1:-../shared/audio}" && pwd)
python=${PYTHON:-$(scripts/training-venv.sh | tail -1)}
python=$(cd "$(dirname "$python")" && pwd)/$(basename "$python")
cargo build -q --release -p automix
automix=$(pwd)/target/release/automix
cd training
"$python" -m automix_training.separation.musdb "$automix" "$audio/musdb-preview" "$audio"/musdb-excerpts/*/
