# Sourced by the training scripts (train-vad.sh, train-separator-pro.sh) from the repository's
# root: sets `audio` (the shared audio folder, $1 or ../shared/audio), `python` (the training
# environment's, or $PYTHON) and `automix` (the release CLI, built first), all absolute.
audio=$(cd "${1:-../shared/audio}" && pwd)
python=${PYTHON:-$(scripts/training-venv.sh | tail -1)}
python=$(cd "$(dirname "$python")" && pwd)/$(basename "$python")
cargo build -q --release -p automix
automix=$(pwd)/target/release/automix
