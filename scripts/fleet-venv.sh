#!/usr/bin/env bash
# Makes target/fleet-venv, the Python that builds the `vocal_automix` wheel (maturin) and runs its
# tests and the Ray job (python/requirements-fleet.txt: maturin, numpy, ray, pyarrow, fsspec,
# soundfile, pytest; about 700 MB). The wheel itself is built and installed by scripts/test.sh
# (a development build) or by `pip install ./python` (a release build). Prints the venv's python
# on its last line. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=target/fleet-venv
req=python/requirements-fleet.txt
stamp="$venv/.requirements"
if [ -x "$venv/bin/python" ] && cmp -s "$req" "$stamp" 2>/dev/null \
    && "$venv/bin/python" -c "import ray, pyarrow, fsspec, soundfile, pytest, numpy" 2>/dev/null; then
  echo "$venv/bin/python"
  exit 0
fi
echo "== Python for the package and the fleet: $venv (maturin, ray, pyarrow, fsspec, pytest)" >&2
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
