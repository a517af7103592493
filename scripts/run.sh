#!/usr/bin/env bash
# One command to set up and run Strata: installs what is missing, builds, then starts the
# desktop app — or, with no display, a chat in the terminal with the given (or bundled test)
# model.   Usage: scripts/run.sh [MODEL.gguf]
set -euo pipefail
cd "$(dirname "$0")/.."
model=${1:-}
if [[ -z "$model" && -f ../shared/models/stories260K.gguf ]]; then
  model=../shared/models/stories260K.gguf
fi
if [[ -n "${DISPLAY:-}" || -n "${WAYLAND_DISPLAY:-}" ]]; then
  scripts/install-deps.sh
  scripts/build.sh -DSTRATA_QT=ON  # explicit: a headless run before may have cached OFF
  exec build/app/strata ${model:+"$model"}
fi
scripts/install-deps.sh --headless
scripts/build.sh -DSTRATA_QT=OFF
if [[ -z "$model" ]]; then
  echo "No display found, so Strata starts its terminal chat; it needs a model file:" >&2
  echo "  scripts/run.sh path/to/model.gguf   (any Llama/Qwen GGUF, e.g. a Q4_K_M from Hugging Face)" >&2
  exit 2
fi
exec build/engine/cli/strata-cli chat -m "$model"
