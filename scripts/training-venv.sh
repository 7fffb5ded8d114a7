#!/usr/bin/env bash
# Makes target/training-venv, the Python that trains and exports the CNN assistant and checks the
# Rust inference against ONNX Runtime (training/requirements.txt: torch, onnx, onnxruntime, numpy,
# pytest). PyPI's Linux torch brings NVIDIA's CUDA wheels (about 5 GB, a minute to install here);
# nothing uses a GPU. Prints the venv's python on its last line. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/venv.sh
make_venv target/training-venv training/requirements.txt "torch, onnx, onnxruntime, numpy, pytest" \
  "Python for training (torch, onnx, onnxruntime, numpy, pytest)"
