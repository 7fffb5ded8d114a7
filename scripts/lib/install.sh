# Helpers shared by scripts/setup.sh and scripts/test.sh (sourced, not run).

say() { printf '\n== %s  (at %d s)\n' "$*" "$SECONDS"; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else return 1; fi
}

# Debian/Ubuntu packages; fails (and the caller says what will skip) where there is no apt or no root.
apt_install() {
  command -v apt-get >/dev/null || return 1
  as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# The X11, xcb and GL headers and pkg-config, which the plug-in's editor builds against (Linux).
install_build_headers() {
  [ "$(uname -s)" = Linux ] || return 0
  [ -e /usr/include/X11/Xlib.h ] && [ -e /usr/include/xcb/xcb.h ] && [ -e /usr/include/GL/gl.h ] \
    && command -v pkg-config >/dev/null && return 0
  say "installing the X11 and GL headers (the plug-in's editor links against them)"
  apt_install libx11-dev libx11-xcb-dev libxcb1-dev libxcursor-dev libxrandr-dev libgl-dev pkg-config \
    || echo "could not install them: the plug-in may not build (install the X11, xcb and GL development packages)"
}
