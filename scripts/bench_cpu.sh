#!/usr/bin/env bash
# CPU benchmark of the formats people download: generates random-weight models with
# TinyLlama-1.1B's shape (dim 2048, 22 layers, 32 heads, 4 kv heads, ffn 5632, vocab 32000) in
# F16, Q8_0, Q4_0 and Q4_K_M with `strata-cli gen-model`, runs `strata-cli bench` on each, and
# prints a markdown table for docs/benchmarks.md.
#
# Each bench invocation measures one test (pp128, pp512 or tg64; the median of --repeats runs)
# on one model, and the formats take turns within each test, in an order that rotates every
# round: the machine's memory bandwidth and the other jobs on it drift from minute to minute,
# and this spreads the drift over all formats alike. The table shows, per format and test, the
# best round: other jobs can only slow a run down, so the least disturbed round is the nearest
# to what the machine itself does. Every round's numbers are listed under the table.
#
# Environment: BENCH_BUILD (build folder, default build-bench; configured Release, CPU only,
#   without Qt, when it has no strata-cli), BENCH_ROUNDS (default 2), BENCH_REPEATS (default 3),
#   BENCH_THREADS (default: all cores), BENCH_FORMATS (default "F16 Q8_0 Q4_0 Q4_K_M"),
#   BENCH_MODELS (folder for the models and results.txt, kept; default a temp folder removed at
#   exit), BENCH_JOBS (build jobs, default 2), BENCH_PRESET (gen-model preset, default
#   tinyllama; "tiny" for a quick check of the script itself), BENCH_TABLE_ONLY=1 (print the
#   table again from BENCH_MODELS/results.txt without measuring), BENCH_TESTS (default
#   "pp128 pp512 tg64"; fewer for big models, e.g. "pp128 tg64"), BENCH_CLI (a strata-cli to
#   measure as it is, not built), LLAMA_BENCH (path of a
#   llama.cpp llama-bench binary: when set, it runs right after Strata on every format and test
#   with the same threads and repeats, and the table gains llama.cpp's numbers and the ratio;
#   docs/benchmarks.md says how to build one without network access).
set -euo pipefail
cd "$(dirname "$0")/.."

build=${BENCH_BUILD:-build-bench}
rounds=${BENCH_ROUNDS:-2}
repeats=${BENCH_REPEATS:-3}
formats=(${BENCH_FORMATS:-F16 Q8_0 Q4_0 Q4_K_M})
preset=${BENCH_PRESET:-tinyllama}
tests=(${BENCH_TESTS:-pp128 pp512 tg64})
threads_arg=()
[[ -n "${BENCH_THREADS:-}" ]] && threads_arg=(--threads "$BENCH_THREADS")

if [[ -n "${BENCH_MODELS:-}" ]]; then
  models=$BENCH_MODELS
  mkdir -p "$models"
else
  models=$(mktemp -d "${TMPDIR:-/tmp}/strata-bench.XXXXXX")
  trap 'rm -rf "$models"' EXIT
fi
# Lines "round format test value" (test: pp128 pp512 tg64, gbs = decode GB/s, peak = the
# bandwidth probe after the tg run) and "# key value" notes.
results="$models/results.txt"

measure() {
  local cli="${BENCH_CLI:-$build/engine/cli/strata-cli}"
  if [[ -z "${BENCH_CLI:-}" ]]; then
    if [[ ! -x "$cli" ]]; then
      echo "== building strata-cli (Release) in $build" >&2
      cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSTRATA_QT=OFF -DSTRATA_CUDA=OFF >/dev/null
    fi
    cmake --build "$build" --target strata-cli -j "${BENCH_JOBS:-2}" >/dev/null
  fi
  for f in "${formats[@]}"; do
    local m="$models/$preset-$f.gguf"
    if [[ ! -f "$m" ]]; then
      echo "== generating $m" >&2
      "$cli" gen-model --preset "$preset" --type "$f" --seed 1 "$m" >&2
    fi
  done
  {
    echo "# date $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "# commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
    echo "# load_before $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "# rounds $rounds"
    [[ -n "${LLAMA_BENCH:-}" ]] && echo "# reference llama.cpp $({ "$LLAMA_BENCH" --version 2>&1 || true; } | grep -m1 -o 'version: .*')"
  } >"$results"
  local n=${#formats[@]} r k f test out size_args
  for ((r = 0; r < rounds; ++r)); do
    for test in "${tests[@]}"; do
      for ((k = 0; k < n; ++k)); do
        f=${formats[$(((k + r) % n))]}
        case $test in
          pp*) size_args=(--pp "${test#pp}" --tg "") ;;
          tg*) size_args=(--pp "" --tg "${test#tg}") ;;
        esac
        echo "== round $((r + 1))/$rounds $test $f" >&2
        out=$("$cli" bench -m "$models/$preset-$f.gguf" --devices cpu "${threads_arg[@]}" "${size_args[@]}" \
              --repeats "$repeats" 2>/dev/null)
        echo "$out" | awk -v r=$((r + 1)) -v f="$f" -v t="$test" '
          $1 == t {print r, f, t, $2; if (t ~ /^tg/) print r, f, "gbs", $4}
          /^measured streaming-read bandwidth:/ {print r, f, "peak", $4}' >>"$results"
        grep -q '^# kernels ' "$results" || echo "$out" | awk '/^cpu kernels:/ {sub(/^cpu kernels: /, ""); print "# kernels " $0}' >>"$results"
        [[ -n "${LLAMA_BENCH:-}" ]] && reference "$r" "$f" "$test"
      done
    done
  done
  echo "# load_after $(cut -d' ' -f1-3 /proc/loadavg)" >>"$results"
}

# llama.cpp's llama-bench on the same model and test; records the median of its samples as
# "round format ref-<test> tok/s".
reference() {
  local r=$1 f=$2 test=$3 args
  case $test in
    pp*) args=(-p "${test#pp}" -n 0) ;;
    tg*) args=(-p 0 -n "${test#tg}") ;;
  esac
  echo "== round $((r + 1))/$rounds $test $f (llama.cpp)" >&2
  "$LLAMA_BENCH" -m "$models/$preset-$f.gguf" -t "${BENCH_THREADS:-$(nproc)}" "${args[@]}" -r "$repeats" -o jsonl \
      2>/dev/null | python3 -c '
import json, statistics, sys
for line in sys.stdin:
    line = line.strip()
    if line.startswith("{"):
        print(sys.argv[1], sys.argv[2], "ref-" + sys.argv[3], "%.2f" % statistics.median(json.loads(line)["samples_ts"]))
' "$((r + 1))" "$f" "$test" >>"$results"
}

note() { awk -v k="$1" '$1 == "#" && $2 == k {$1 = $2 = ""; sub(/^  /, ""); print}' "$results"; }
# Best round of a test; for tg64, also that round's GB/s and bandwidth probe.
best_round() { awk -v f="$1" -v t="$2" '$2 == f && $3 == t && $4 > best {best = $4; r = $1} END {print r}' "$results"; }
value() { awk -v r="$1" -v f="$2" -v t="$3" '$1 == r && $2 == f && $3 == t {print $4}' "$results"; }

[[ "${BENCH_TABLE_ONLY:-0}" == 1 ]] || measure

cpu=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
family=$(awk -F': ' '/^cpu family/ {f = $2} /^model[ \t]*:/ {m = $2} END {print "family " f ", model " m}' /proc/cpuinfo)
simd=$(grep -m1 '^flags' /proc/cpuinfo | grep -o -w -E 'avx2|fma|f16c|avx512f|avx512bw|avx512vl|avx512dq|avx512_vnni|avx512_bf16|avx512_fp16|avx_vnni' | sort -u | tr '\n' ' ')
echo "CPU benchmark, $(note date), commit $(note commit)"
echo
echo "- CPU: $cpu ($family; ${simd% }), $(nproc) hardware threads; bench threads: ${BENCH_THREADS:-all}"
echo "- Strata's CPU kernels: $(note kernels)"
echo "- load average (1, 5, 15 min) before: $(note load_before); after: $(note load_after)"
echo "- gen-model preset $preset, random weights; tok/s: best of $(note rounds) interleaved rounds, each the median of $repeats run$( ((repeats > 1)) && echo s)"
echo
echo "| format | size | pp128 | pp512 | tg64 | GB/s (decode) | % of measured bandwidth |"
echo "|---|---:|---:|---:|---:|---:|---:|"
for f in "${formats[@]}"; do
  size=$(stat -L -c %s "$models/$preset-$f.gguf" |
         awk '{if ($1 >= 1073741824) printf "%.2f GiB", $1 / 1073741824; else printf "%.0f MiB", $1 / 1048576}')
  r_tg=$(best_round "$f" tg64)
  gbs=$(value "$r_tg" "$f" gbs)
  peak=$(value "$r_tg" "$f" peak)
  pct=$(awk -v g="$gbs" -v p="$peak" 'BEGIN {print (p > 0 ? 100 * g / p : 0)}')
  printf "| %s | %s | %.1f | %.1f | %.2f | %.1f | %.0f%% (of %.1f GB/s) |\n" "$f" "$size" \
    "$(value "$(best_round "$f" pp128)" "$f" pp128)" "$(value "$(best_round "$f" pp512)" "$f" pp512)" \
    "$(value "$r_tg" "$f" tg64)" "$gbs" "$pct" "$peak"
done
if grep -q ' ref-' "$results"; then
  echo
  echo "Against llama.cpp ($(note reference)), same models, threads and rounds, each engine's best round:"
  echo
  echo "| format | test | Strata tok/s | llama.cpp tok/s | Strata ÷ llama.cpp |"
  echo "|---|---|---:|---:|---:|"
  for f in "${formats[@]}"; do
    for t in "${tests[@]}"; do
      ours=$(value "$(best_round "$f" "$t")" "$f" "$t")
      ref=$(value "$(best_round "$f" "ref-$t")" "$f" "ref-$t")
      awk -v f="$f" -v t="$t" -v a="$ours" -v b="$ref" \
        'BEGIN {printf "| %s | %s | %.2f | %.2f | %s |\n", f, t, a, b, (b > 0 ? sprintf("%.2f×", a / b) : "–")}'
    done
  done
fi
echo
echo "Every round (pp128 / pp512 / tg64 tok/s, bandwidth probe GB/s):"
echo
for f in "${formats[@]}"; do
  awk -v f="$f" '$2 == f {v[$1 " " $3] = $4; if ($1 > n) n = $1}
    END {line = "- " f ":"; for (r = 1; r <= n; ++r)
           line = line sprintf(" round %d: %s / %s / %s, probe %s;", r, v[r " pp128"], v[r " pp512"], v[r " tg64"], v[r " peak"]);
         sub(/;$/, "", line); print line}' "$results"
done
if grep -q ' ref-' "$results"; then
  echo
  echo "Every round, llama.cpp (pp128 / pp512 / tg64 tok/s):"
  echo
  for f in "${formats[@]}"; do
    awk -v f="$f" '$2 == f {v[$1 " " $3] = $4; if ($1 > n) n = $1}
      END {line = "- " f ":"; for (r = 1; r <= n; ++r)
             line = line sprintf(" round %d: %s / %s / %s;", r, v[r " ref-pp128"], v[r " ref-pp512"], v[r " ref-tg64"]);
           sub(/;$/, "", line); print line}' "$results"
  done
fi
