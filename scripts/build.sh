#!/usr/bin/env bash
# Configures and builds Strata into ./build (Release). Extra arguments go to cmake.
# STRATA_JOBS sets parallel jobs (default: all cores).
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${STRATA_JOBS:-$(nproc)}
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
cmake --build build -j "$jobs"
