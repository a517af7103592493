#!/usr/bin/env bash
# Tokenizer speed against llama.cpp's llama-tokenize, interleaved, on the same vocab-only GGUFs
# and the same text: for each vocabulary, every round runs Strata then llama.cpp, and the best
# round of each counts. Both are timed as whole processes (load the vocabulary, read the file,
# tokenize with special-token parsing off, print the ids to /dev/null), so neither is measured
# with a clock the other does not have; Strata's in-process encode speed (tokenize --bench) is
# printed beside it.
#
#   LLAMA_TOKENIZE=/path/to/llama-tokenize scripts/bench_tokenizer.sh
#
# Variables: STRATA_CLI (default build/engine/cli/strata-cli), TOK_VOCABS (vocab-only GGUFs both
# programs load; default: llama.cpp's own test vocabularies, models/ggml-vocab-NAME.gguf beside
# the llama-tokenize build, for the names in TOK_NAMES), TOK_TEXT_MB (default 10), TOK_ROUNDS
# (default 3). (The GGUFs `strata-cli tokenizer-import` writes carry no architecture and model
# keys, which llama.cpp needs even to read a vocabulary.) A run that fails stops the script.
# Prints a Markdown table; the text is tests/data/tokenizer_corpus.txt (many languages, code,
# emoji, whitespace and digit runs) repeated to the size asked for.
set -euo pipefail
cd "$(dirname "$0")/.."
cli=${STRATA_CLI:-build/engine/cli/strata-cli}
llama=${LLAMA_TOKENIZE:?set LLAMA_TOKENIZE to llama.cpp\'s llama-tokenize}
rounds=${TOK_ROUNDS:-3}
mb=${TOK_TEXT_MB:-10}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

vocabs=${TOK_VOCABS:-}
if [[ -z "$vocabs" ]]; then
  vocabs=$work/vocabs
  mkdir -p "$vocabs"
  src=$(cd "$(dirname "$llama")" && git rev-parse --show-toplevel 2>/dev/null || echo "$(dirname "$llama")/../..")/models
  for name in ${TOK_NAMES:-llama-spm llama-bpe qwen2 qwen35 deepseek-llm deepseek-coder command-r gpt-2 phi-3 falcon starcoder}; do
    [[ -f "$src/ggml-vocab-$name.gguf" ]] && ln -s "$src/ggml-vocab-$name.gguf" "$vocabs/$name.gguf"
  done
  ls "$vocabs"/*.gguf >/dev/null 2>&1 || { echo "no vocabularies in $src: set TOK_VOCABS" >&2; exit 1; }
fi

text=$work/text.txt
while (( $(stat -c %s "$text" 2>/dev/null || echo 0) < mb * 1048576 )); do
  cat tests/data/tokenizer_corpus.txt >> "$text"
done
bytes=$(stat -c %s "$text")

# Wall seconds of a command, its output discarded; a failure stops the script with its message.
seconds() {
  local t0 t1
  t0=$(date +%s.%N)
  if ! "$@" >/dev/null 2>"$work/err"; then
    echo "failed: $*" >&2
    tail -3 "$work/err" >&2
    exit 1
  fi
  t1=$(date +%s.%N)
  echo "$t1 - $t0" | bc -l
}

echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); text: $bytes bytes; best of $rounds interleaved rounds"
echo
echo "| vocabulary | Strata MB/s | llama-tokenize MB/s | ratio | Strata encode only, MB/s |"
echo "|---|---:|---:|---:|---:|"
for v in "$vocabs"/*.gguf; do
  name=$(basename "$v" .gguf)
  best_s=999999 best_l=999999
  for ((r = 0; r < rounds; ++r)); do
    s=$(seconds "$cli" tokenize -m "$v" --no-bos --file "$text") || exit 1
    l=$(seconds "$llama" -m "$v" -f "$text" --ids --no-bos --no-parse-special --log-disable) || exit 1
    best_s=$(echo "if ($s < $best_s) $s else $best_s" | bc -l)
    best_l=$(echo "if ($l < $best_l) $l else $best_l" | bc -l)
  done
  encode=$("$cli" tokenize -m "$v" --bench "$text" 2>&1 | grep -oE '[0-9.]+ MB/s' | tail -1 | cut -d' ' -f1)
  printf "| %s | %.1f | %.1f | %.2f× | %s |\n" "$name" \
    "$(echo "$bytes / 1048576 / $best_s" | bc -l)" "$(echo "$bytes / 1048576 / $best_l" | bc -l)" \
    "$(echo "$best_l / $best_s" | bc -l)" "${encode:-?}"
done
