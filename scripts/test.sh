#!/usr/bin/env bash
# Runs every test: installs what the tests need, then `cargo test --workspace`, its test binaries
# two at a time. Arguments before `--` go to cargo (`scripts/test.sh -p automix`), after it to every
# test binary (`scripts/test.sh -p automix -- reference`).
#   - the IEM plug-ins (the research's DSP, for side-by-side tests), lame and espeak-ng,
#     X11/GL, Mesa and Xvfb for the editor's tests (Debian/Ubuntu, as root or with sudo),
#   - Ardour 7 (Debian's `ardour`: the plug-in in a real DAW, tests/daw/),
#   - target/iem-venv (pedalboard, DawDreamer and the IEM host), target/training-venv (PyTorch) and
#     target/fleet-venv (Ray, maturin; the Python package's wheel, built here),
#   - the plug-in's bundles (release) and a debug build with nice-plug's allocation check.
# Whatever cannot be installed makes its tests print `SKIPPED: …`; CI turns those into failures.
# Safe to run again: every step checks what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/install.sh

cargo_args=() test_args=()
while [ $# -gt 0 ] && [ "$1" != -- ]; do cargo_args+=("$1"); shift; done
[ $# -gt 0 ] && shift && test_args=("$@")
# --workspace unless packages are named (cargo would let --workspace win over -p); the Python
# module is built by maturin below, as the extension module it is
scope=(--workspace --exclude automix-python)
for a in "${cargo_args[@]}"; do case $a in -p | --package | -p* | --package=*) scope=() ;; esac; done

if [ ! -e /usr/lib/x86_64-linux-gnu/iem-plugin-suite/vst/libMultiEQ.so ]; then
  say "installing the IEM plug-ins (the research's DSP, for side-by-side tests)"
  apt_install iem-plugin-suite-vst || echo "could not install them: the IEM comparison tests will skip and say so"
fi

# LAME encodes the MP3 that the gapless-decoding test makes (cli/tests/separate.rs); espeak-ng
# speaks the spoken-word reference of cli/tests/reference.rs.
if ! command -v lame >/dev/null || ! command -v espeak-ng >/dev/null; then
  say "installing lame and espeak-ng (an MP3 and a spoken reference for the tests)"
  apt_install lame espeak-ng || echo "could not install lame, espeak-ng: the tests that need them will skip and say so"
fi

# The editor builds against X11 and GL; its tests open it on a virtual screen (Xvfb, drawn by
# Mesa's software GL).
install_build_headers
if [ "$(uname -s)" = Linux ] && ! command -v Xvfb >/dev/null; then
  say "installing Xvfb and Mesa's software GL (the editor's tests)"
  apt_install libgl1-mesa-dri xvfb \
    || echo "could not install them: the editor tests will skip and say so"
fi

# Ardour (a real DAW, for tests/daw/), the Python environments (gigabytes of torch): downloaded
# and unpacked in the background while Rust builds, and waited for before the tests run.
background_installs() {
  if ! [ -x /usr/bin/ardour7-lua ]; then
    say "installing Ardour 7 (the plug-in in a real DAW: tests/daw/)"
    apt_install ardour || echo "could not install Ardour: the Ardour session tests will skip and say so"
  fi
  venv=target/iem-venv
  if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import numpy, scipy, soundfile, pedalboard, dawdreamer" 2>/dev/null; then
    say "Python for the IEM reference host and the VST3 host test: $venv (numpy, scipy, soundfile, pedalboard, dawdreamer)"
    rm -rf "$venv"
    # a bare Debian python3 has no ensurepip until python3-venv is installed
    if ! python3 -m venv "$venv" 2>/dev/null; then
      rm -rf "$venv"
      apt_install python3-venv python3-pip && python3 -m venv "$venv" || true
    fi
    if [ -x "$venv/bin/pip" ]; then
      "$venv/bin/pip" install -q --disable-pip-version-check numpy scipy soundfile pedalboard dawdreamer \
        || echo "could not install numpy, scipy, soundfile, pedalboard, dawdreamer: the IEM and VST3 host tests will skip and say so"
    else
      echo "could not make $venv: the IEM comparison tests will skip and say so"
    fi
  fi

  # The CNN assistant's training package and its tests (torch, onnx, onnxruntime, pytest): about
  # 5 GB, because PyPI's Linux torch brings NVIDIA's CUDA wheels; nothing uses a GPU.
  if ! scripts/training-venv.sh >/dev/null; then
    echo "could not make target/training-venv: the training package's tests will skip and say so"
  fi

  # The Python package's build (maturin), its tests and the Ray job (ray, pyarrow, fsspec).
  if ! scripts/fleet-venv.sh >/dev/null; then
    echo "could not make target/fleet-venv: the Python package's tests will skip and say so"
  fi
}
mkdir -p target
background_installs > target/background-installs.log 2>&1 &
background_pid=$!

# The CLAP and VST3 hosts load the release bundles (no work when scripts/setup.sh made them).
say "bundling the plug-in (target/bundled/Vocal Automix.clap, .vst3)"
cargo xtask bundle vocal_automix --release

if [ "$(uname -s)" = Linux ]; then
  # For the realtime test: a debug build with nice-plug's allocation check (the test also runs
  # it with AUTOMIX_TEST_ALLOCATE_IN_PROCESS set, which makes a debug build allocate in
  # process(), to prove the check fires). A CLAP file is the plug-in's shared library. Built in
  # the main target directory, so it shares every dependency with the test build (only nice-plug
  # and the plug-in itself compile again); the copy survives the next build there.
  say "building the plug-in with nice-plug's allocation check (target/alloc-check/)"
  mkdir -p target/alloc-check
  cargo build -q -p vocal_automix --features assert_process_allocs
  cp target/debug/libvocal_automix.so target/alloc-check/checked.clap
fi

# The tests build nice-plug with the allocation check too: the plug-in builds above then share
# it with the test build instead of compiling it once more without (the check acts only inside a
# host's process() call, which no unit test makes; the hosts' tests load the release bundles).
checked=()
[ "$(uname -s)" = Linux ] && checked=(--features vocal_automix/assert_process_allocs)

say "building the tests"
cargo test "${scope[@]}" "${checked[@]}" --no-run --message-format=json-render-diagnostics "${cargo_args[@]}" \
  > target/test-binaries.json

say "waiting for Ardour and the Python environments"
wait "$background_pid" || true
cat target/background-installs.log

# The Python package as a wheel (python/: maturin, PyO3, abi3), built with the test build's profile
# so it shares every dependency with it, and installed into target/fleet-venv for its tests
# (cli/tests/python_package.rs). `pip install ./python` builds the release wheel instead.
if [ -x target/fleet-venv/bin/maturin ]; then
  say "building the Python package's wheel (target/wheels/) and installing it into target/fleet-venv"
  rm -f target/wheels/vocal_automix-*.whl
  target/fleet-venv/bin/maturin build --quiet --profile dev -m python/Cargo.toml -o target/wheels
  target/fleet-venv/bin/pip install -q --disable-pip-version-check --force-reinstall --no-deps target/wheels/vocal_automix-*.whl
fi

# cargo test would run the binaries one after another; this runs them side by side, each as cargo
# runs it, and prints each binary's output whole (scripts/lib/run_test_binaries.py).
say "cargo test ${scope[*]} ${checked[*]} ${cargo_args[*]} -- ${test_args[*]}"
python3 scripts/lib/run_test_binaries.py target/test-binaries.json -- "${test_args[@]}"
