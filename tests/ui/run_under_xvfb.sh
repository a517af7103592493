#!/usr/bin/env bash
# Runs a UI test (the command line given) on a real X server: Xvfb through xvfb-run, with Qt's
# xcb platform. Exits 77 (CTest's skip) saying why where Xvfb or Qt's xcb plugin is missing.
set -u
if ! command -v xvfb-run >/dev/null 2>&1 || ! command -v Xvfb >/dev/null 2>&1; then
  echo "SKIP: Xvfb is not installed (Debian: xvfb and xauth; scripts/install-deps.sh installs them)"
  exit 77
fi
export QT_QPA_PLATFORM=xcb
exec xvfb-run -a -s "-screen 0 1400x900x24" "$@"
