#!/usr/bin/env bash
# Fine-tunes the shipped separator on produced music (training/automix_training/separation/pro.py):
# seven musdb-stems songs remixed (the eighth, Tom McKenzie - Directions, held out for early
# stopping with MIR-1K's validation clips), instrumental examples, MIR-1K's training singers a
# third of the time. Then the figures docs/separation.md and docs/reference.md give: the five
# professional songs' SDR, the balance each reads as a reference and its calibration, and MIR-1K's
# GNSDR. Resumable: run it again and it goes on from target/separation-pro/pro.pt.
#   scripts/train-separator-pro.sh [SHARED_AUDIO]      (default ../shared/audio)
# Settings: MINUTES (default 28), PYTHON (default: scripts/training-venv.sh's). On this project's
# 2-core machine, one core: the training's minutes, then about 20 minutes of evaluation. Writes
# target/separation-pro/models; copy its separator.onnx and its models.json `separation` entry
# into models/ to ship it, then set the calibration (crates/assistant/src/reference.rs) to what
# balance_fit prints.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/training-paths.sh
source scripts/training-paths.sh "${1:-}"
minutes=${MINUTES:-28}
work=$(pwd)/target/separation-pro
cd training
"$python" -m automix_training.separation.pro --stems "$audio/musdb-stems" --mir1k "$audio/mir1k" \
  --work "$work" --out "$work/models" --lr 1e-4 --no-vocal 0.15 --karaoke-backing 0.5 --minutes "$minutes"
export VOCAL_AUTOMIX_MODELS="$work/models"
"$python" -m automix_training.separation.musdb "$automix" "$audio/musdb-preview" "$audio"/musdb-excerpts/*/
"$python" -m automix_training.separation.balance_fit "$automix" --stems "$audio/musdb-stems" \
  --held-out "$audio/musdb-preview" "$audio"/musdb-excerpts/*/
"$python" -m automix_training.separation.pro --evaluate "$work/models/separator.onnx" --mir1k "$audio/mir1k"
