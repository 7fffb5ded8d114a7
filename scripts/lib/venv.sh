# make_venv VENV REQUIREMENTS IMPORTS WHAT: a Python virtual environment at VENV with
# REQUIREMENTS installed, made again when the requirements file changed or `import IMPORTS` fails;
# prints the venv's python on its last line. Sourced by scripts/training-venv.sh and
# scripts/fleet-venv.sh.
make_venv() {
  local venv=$1 req=$2 imports=$3 what=$4
  local stamp="$venv/.requirements"
  if [ -x "$venv/bin/python" ] && cmp -s "$req" "$stamp" 2>/dev/null \
      && "$venv/bin/python" -c "import $imports" 2>/dev/null; then
    echo "$venv/bin/python"
    return 0
  fi
  echo "== $what: $venv" >&2
  mkdir -p "$(dirname "$venv")"
  rm -rf "$venv"
  if ! python3 -m venv "$venv" 2>/dev/null; then
    rm -rf "$venv"
    # a bare Debian python3 has no ensurepip until python3-venv is installed
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv python3-pip >/dev/null
    fi
    python3 -m venv "$venv"
  fi
  "$venv/bin/pip" install -q --disable-pip-version-check -r "$req" >&2
  cp "$req" "$stamp"
  echo "$venv/bin/python"
}
