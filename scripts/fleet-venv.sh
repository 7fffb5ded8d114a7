#!/usr/bin/env bash
# Makes target/fleet-venv, the Python that builds the `vocal_automix` wheel (maturin) and runs its
# tests and the Ray job (python/requirements-fleet.txt: maturin, numpy, ray, pyarrow, fsspec,
# soundfile, pytest, kubernetes-validate; about 700 MB). The wheel itself is built and installed by
# scripts/test.sh (a development build) or by `pip install ./python` (a release build). Prints the
# venv's python on its last line. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/venv.sh
make_venv target/fleet-venv python/requirements-fleet.txt "ray, pyarrow, fsspec, soundfile, pytest, numpy, kubernetes_validate" \
  "Python for the package and the fleet (maturin, ray, pyarrow, fsspec, pytest)"
