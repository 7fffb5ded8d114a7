#!/usr/bin/env bash
# Makes target/training-venv, the Python that trains and exports the CNN assistant and checks the
# Rust inference against ONNX Runtime (training/requirements.txt: torch, onnx, onnxruntime, numpy,
# pytest). PyPI's Linux torch brings NVIDIA's CUDA wheels (about 5 GB, a minute to install here);
# nothing uses a GPU. Prints the venv's python on its last line. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=target/training-venv
req=training/requirements.txt
stamp="$venv/.requirements"
if [ -x "$venv/bin/python" ] && cmp -s "$req" "$stamp" 2>/dev/null \
    && "$venv/bin/python" -c "import torch, onnx, onnxruntime, numpy, pytest" 2>/dev/null; then
  echo "$venv/bin/python"
  exit 0
fi
echo "== Python for training: $venv (torch, onnx, onnxruntime, numpy, pytest)" >&2
mkdir -p target
rm -rf "$venv"
if ! python3 -m venv "$venv" 2>/dev/null; then
  rm -rf "$venv"
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv python3-pip >/dev/null
  fi
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install -q --disable-pip-version-check -r "$req" >&2
cp "$req" "$stamp"
echo "$venv/bin/python"
