#!/usr/bin/env bash
# Cross-check against llama.cpp: for every architecture `strata-cli gen-model` writes, a small
# random-weight model in F32 and Q8_0 is decoded greedily by Strata (`run --temp 0
# --logits-out`) and by llama.cpp's library (scripts/crosscheck/llama_greedy.cpp, built here
# against it), from the same prompt, one thread each; the two logit streams are compared step by
# step (scripts/crosscheck/compare_logits.py). It shows that other GGUF tools read the files
# gen-model writes as we mean them, and checks every architecture against an independent
# implementation, beside the double-precision reference the tests use.
#
# Environment: LLAMA_CPP (a llama.cpp source tree with a build in $LLAMA_CPP/build, made as
#   docs/benchmarks.md says; required), STRATA_CLI (default build/engine/cli/strata-cli),
#   CROSSCHECK_ARCHS (default: all), CROSSCHECK_TYPES (default "F32 Q8_0"), CROSSCHECK_STEPS
#   (default 40), CROSSCHECK_DIR (work folder, kept; default a temp folder removed at exit).
set -euo pipefail
cd "$(dirname "$0")/.."

: "${LLAMA_CPP:?set LLAMA_CPP to a llama.cpp source tree built in \$LLAMA_CPP/build (see docs/benchmarks.md)}"
cli=${STRATA_CLI:-build/engine/cli/strata-cli}
[[ -x "$cli" ]] || { echo "no strata-cli at $cli (build it, or set STRATA_CLI)" >&2; exit 1; }
archs=(${CROSSCHECK_ARCHS:-llama llama31 qwen2 qwen3 phi3 gemma2 gemma3 mistral3 mixtral qwen3moe gpt-oss glm4moe})
types=(${CROSSCHECK_TYPES:-F32 Q8_0})
steps=${CROSSCHECK_STEPS:-40}
prompt="once upon a time"
vocab=512

if [[ -n "${CROSSCHECK_DIR:-}" ]]; then
  work=$CROSSCHECK_DIR
  mkdir -p "$work"
else
  work=$(mktemp -d "${TMPDIR:-/tmp}/strata-crosscheck.XXXXXX")
  trap 'rm -rf "$work"' EXIT
fi

libdir=$(dirname "$(find "$LLAMA_CPP/build" -name 'libllama.so' -print -quit)")
[[ -d "$libdir" ]] || { echo "no libllama.so under $LLAMA_CPP/build" >&2; exit 1; }
greedy="$work/llama_greedy"
g++ -O2 -std=c++17 scripts/crosscheck/llama_greedy.cpp -I"$LLAMA_CPP/include" -I"$LLAMA_CPP/ggml/include" \
    -L"$libdir" -Wl,-rpath,"$libdir" -lllama -lggml -lggml-base -o "$greedy"

echo "| architecture | weights | result |"
echo "|---|---|---|"
for arch in "${archs[@]}"; do
  for type in "${types[@]}"; do
    model="$work/$arch-$type.gguf"
    # Three layers: gemma3's pattern has a global layer at the third; glm4moe a dense, a MoE and
    # a NextN layer.
    if ! "$cli" gen-model --arch "$arch" --vocab "$vocab" --embd 128 --layers 3 --heads 4 --kv-heads 2 --ff 256 \
         --type "$type" "$model" >"$work/gen.log" 2>&1; then
      echo "| $arch | $type | gen-model failed: $(tail -1 "$work/gen.log") |"
      continue
    fi
    if ! ref=$("$greedy" "$model" "$prompt" "$steps" "$work/ref.bin" 2>"$work/ref.err"); then
      echo "| $arch | $type | llama.cpp failed: $(tail -1 "$work/ref.err") |"
      continue
    fi
    if ! "$cli" run -m "$model" -p "$prompt" -n "$steps" --temp 0 --ignore-eos --threads 1 \
         --logits-out "$work/ours.bin" >/dev/null 2>"$work/ours.err"; then
      echo "| $arch | $type | strata-cli failed: $(tail -1 "$work/ours.err") |"
      continue
    fi
    ids=$(echo "$ref" | sed -n 's/^gen://p')
    echo "| $arch | $type | $(python3 scripts/crosscheck/compare_logits.py "$vocab" "$ids" "$work/ours.bin" "$work/ref.bin") |"
  done
done
