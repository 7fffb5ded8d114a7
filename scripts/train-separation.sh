#!/usr/bin/env bash
# Retrains the singing-voice separator (seed 003's U-Net, informed of vocal activity as in seed
# 004) and the VAD CNN on MIR-1K, evaluates them with seed 004's baselines on the 825 test clips
# (BSS Eval), and writes models/separator.onnx, models/vad.onnx and their `separation` entry in
# models/models.json; the figures go to target/separation/results.json and the log.
#   scripts/train-separation.sh [MIR1K_FOLDER]     (default ../shared/audio/mir1k)
# Two phases, as the shipped models were made: every model trained with early stopping (the
# U-Nets with a patience of 8 epochs, which on MIR-1K's 19 validation clips stops them early),
# then both U-Nets trained further from their best epoch at a third of the learning rate with a
# patience of 25. Settings: MINUTES and MINUTES_MORE (JSON time budgets of the two phases),
# MODELS_OUT (default models), WORK (default target/separation), PYTHON (default:
# scripts/training-venv.sh's). On this project's 2-core machine: about 2 hours (BSS Eval of
# five separators on 825 clips is 15 minutes of it).
set -euo pipefail
cd "$(dirname "$0")/.."
mir1k=${1:-../shared/audio/mir1k}
[ -d "$mir1k/flac" ] || { echo "$mir1k: no flac/ folder (MIR-1K's clips)" >&2; exit 1; }
out=${MODELS_OUT:-models}
work=${WORK:-target/separation}
python=${PYTHON:-$(scripts/training-venv.sh | tail -1)}
minutes=${MINUTES:-'{"vad": 30, "ff": 3, "unet": 22}'}
more=${MINUTES_MORE:-'{"vad": 30, "ff": 3, "unet": 30}'}
mkdir -p "$out" "$work"
abs() { (cd "$1" && pwd); }
out=$(abs "$out"); work=$(abs "$work"); mir1k=$(abs "$mir1k")
python=$(abs "$(dirname "$python")")/$(basename "$python")
cargo build -q --release -p automix
automix=$(pwd)/target/release/automix
cd training
"$python" -m automix_training.separation --mir1k "$mir1k" --out "$out" --work "$work" \
  --automix "$automix" --minutes "$minutes" --patience 8 --vad-width 12 --vad-patience 25
"$python" -m automix_training.separation --mir1k "$mir1k" --out "$out" --work "$work" \
  --reuse --continue unet,unet-informed --minutes "$more" --patience 25 --vad-width 12
