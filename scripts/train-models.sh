#!/usr/bin/env bash
# Retrains the CNN assistant's four models and writes them to models/ (eq, compression, reverb,
# level .onnx and models.json with their held-out figures):
#   scripts/train-models.sh [DATA_FOLDER ...]
# Every folder is searched for MUSDB18-HQ song folders (vocals.wav + drums/bass/other) and MIR-1K
# clips; the default is ../shared/audio. Give MUSDB18-HQ's folder beside it to train the level and
# compression models on real mixing decisions (the shared audio holds one such song).
# Settings: DRAWS (random EQs / reverbs per source, default 8), MAX_EPOCHS (default 40),
# MODELS_OUT (default models), DATASETS (default target/datasets), PYTHON (default: the venv that
# scripts/training-venv.sh makes). On this project's 2-core machine it takes about 10 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -gt 0 ] || set -- ../shared/audio
draws=${DRAWS:-8}
out=${MODELS_OUT:-models}
datasets=${DATASETS:-target/datasets}
python=${PYTHON:-$(scripts/training-venv.sh | tail -1)}
mkdir -p "$out" "$datasets"
out=$(cd "$out" && pwd)
datasets=$(cd "$datasets" && pwd)
python=$(cd "$(dirname "$python")" && pwd)/$(basename "$python")

cargo build -q --release -p automix
# one input folder holding every given folder (automix dataset searches it recursively)
inputs=$(mktemp -d)
trap 'rm -rf "$inputs"' EXIT
i=0
for d in "$@"; do
  [ -d "$d" ] || { echo "$d: not a folder" >&2; exit 1; }
  ln -s "$(cd "$d" && pwd)" "$inputs/$i"
  i=$((i + 1))
done
rm -rf "${datasets:?}"/*
for task in eq compression reverb level; do
  echo "== dataset: $task"
  target/release/automix dataset "$inputs" --out "$datasets" --task "$task" --draws "$draws"
done
echo "== training"
cd training
"$python" -m automix_training --datasets "$datasets" --out "$out" ${MAX_EPOCHS:+--max-epochs "$MAX_EPOCHS"}
