#!/usr/bin/env bash
# Trains the VAD (training/automix_training/separation/vad_train.py): seed 004's CNN, width 16,
# +-40 frames of context, on MIR-1K's training singers (their held-out songs pick the epoch and
# the threshold) and, a quarter of the time, professional wet vocals from musdb-stems (all but
# Tom McKenzie - Directions). Then the figures docs/separation.md gives: MIR-1K's 825 test clips
# (printed by the training), the held-out validation song remixed at -6/-3/0 dB, and the five
# professional mixes. Resumable: run it again and it goes on from target/vad-train/vad.pt.
#   scripts/train-vad.sh [SHARED_AUDIO]      (default ../shared/audio)
# Settings: MINUTES (default 45), PYTHON (default: scripts/training-venv.sh's). One core; the
# shipped run stopped early after 25 minutes here. Writes target/vad-train/models (every model,
# the new vad.onnx among them); copy its vad.onnx and its models.json `separation.vad` entry into
# models/ to ship it.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/training-paths.sh
source scripts/training-paths.sh "${1:-}"
minutes=${MINUTES:-45}
work=$(pwd)/target/vad-train
cd training
"$python" -m automix_training.separation.vad_train --mir1k "$audio/mir1k" --stems "$audio/musdb-stems" \
  --pro 0.25 --width 16 --context wide --batch 16 --steps 50 --minutes "$minutes" \
  --work "$work" --out "$work/models"
# the other shipped models beside it, so the folder is a whole one
for f in ../models/*.onnx; do [ -e "$work/models/$(basename "$f")" ] || cp "$f" "$work/models/"; done
export VOCAL_AUTOMIX_MODELS="$work/models"
"$python" -m automix_training.separation.vad_pro "$automix" --remix "$audio/musdb-stems/Tom McKenzie - Directions"
"$python" -m automix_training.separation.vad_pro "$automix" "$audio"/musdb-excerpts/*/ "$audio/musdb-preview"
