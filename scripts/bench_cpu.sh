#!/usr/bin/env bash
# CPU benchmark of the formats people download: generates random-weight models with
# TinyLlama-1.1B's shape (dim 2048, 22 layers, 32 heads, 4 kv heads, ffn 5632, vocab 32000) in
# F16, Q8_0, Q4_0 and Q4_K_M with `strata-cli gen-model`, runs `strata-cli bench` on each, and
# prints a markdown table for docs/benchmarks.md.
#
# Each bench invocation measures one test (pp128, pp512 or tg64; --repeats medians inside) on
# one model, and the formats take turns within each test, in an order that rotates every round:
# the machine's memory bandwidth drifts from minute to minute, and this spreads the drift over
# all formats alike. The table shows, per format and test, the median over rounds.
#
# Environment: BENCH_BUILD (build folder, default build-bench; configured Release, CPU only,
#   without Qt, when it has no strata-cli), BENCH_ROUNDS (default 2), BENCH_REPEATS (default 3),
#   BENCH_THREADS (default: all cores), BENCH_FORMATS (default "F16 Q8_0 Q4_0 Q4_K_M"),
#   BENCH_MODELS (folder for the models, kept; default a temp folder removed at exit),
#   BENCH_JOBS (build jobs, default 2), BENCH_PRESET (gen-model preset, default tinyllama; "tiny"
#   for a quick check of the script itself).
set -euo pipefail
cd "$(dirname "$0")/.."

build=${BENCH_BUILD:-build-bench}
rounds=${BENCH_ROUNDS:-2}
repeats=${BENCH_REPEATS:-3}
formats=(${BENCH_FORMATS:-F16 Q8_0 Q4_0 Q4_K_M})
preset=${BENCH_PRESET:-tinyllama}
threads_arg=()
[[ -n "${BENCH_THREADS:-}" ]] && threads_arg=(--threads "$BENCH_THREADS")

cli="$build/engine/cli/strata-cli"
if [[ ! -x "$cli" ]]; then
  echo "== building strata-cli (Release) in $build" >&2
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSTRATA_QT=OFF -DSTRATA_CUDA=OFF >/dev/null
fi
cmake --build "$build" --target strata-cli -j "${BENCH_JOBS:-2}" >/dev/null

if [[ -n "${BENCH_MODELS:-}" ]]; then
  models=$BENCH_MODELS
  mkdir -p "$models"
else
  models=$(mktemp -d "${TMPDIR:-/tmp}/strata-bench.XXXXXX")
  trap 'rm -rf "$models"' EXIT
fi

for f in "${formats[@]}"; do
  m="$models/$preset-$f.gguf"
  if [[ ! -f "$m" ]]; then
    echo "== generating $m" >&2
    "$cli" gen-model --preset "$preset" --type "$f" --seed 1 "$m" >&2
  fi
done

median() { sort -g | awk '{v[NR]=$1} END {if (NR==0) print "nan"; else if (NR%2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2}'; }

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
results="$models/results.txt"   # lines: format test value (test: pp128 pp512 tg64 gbs peak)
: >"$results"
for ((r = 0; r < rounds; ++r)); do
  n=${#formats[@]}
  for test in pp128 pp512 tg64; do
    for ((k = 0; k < n; ++k)); do
      f=${formats[$(((k + r) % n))]}
      case $test in
        pp*) size_args=(--pp "${test#pp}" --tg "") ;;
        tg*) size_args=(--pp "" --tg "${test#tg}") ;;
      esac
      echo "== round $((r + 1))/$rounds $test $f" >&2
      out=$("$cli" bench -m "$models/$preset-$f.gguf" --devices cpu "${threads_arg[@]}" "${size_args[@]}" \
            --repeats "$repeats" 2>/dev/null)
      echo "$out" | awk -v f="$f" -v t="$test" '$1 == t {print f, t, $2; if (t ~ /^tg/) print f, "gbs", $4}
        /^measured streaming-read bandwidth:/ {print f, "peak", $4}' >>"$results"
    done
  done
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

value() { awk -v f="$1" -v t="$2" '$1 == f && $2 == t {print $3}' "$results" | median; }
cpu=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
family=$(awk -F': ' '/^cpu family/ {f = $2} /^model[ \t]*:/ {m = $2} END {print "family " f ", model " m}' /proc/cpuinfo)
simd=$(grep -m1 '^flags' /proc/cpuinfo | grep -o -w -E 'avx2|fma|f16c|avx512f|avx512_vnni|avx_vnni' | sort -u | tr '\n' ' ')
echo "CPU benchmark, $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
echo
echo "- CPU: $cpu ($family; ${simd% }), $(nproc) hardware threads; bench threads: ${BENCH_THREADS:-all}"
echo "- load average (1, 5, 15 min) before: $load_before; after: $load_after"
echo "- gen-model preset $preset (tinyllama: TinyLlama-1.1B's shape), random weights; $rounds rounds x $repeats repeats, medians; tok/s"
echo
echo "| format | size | pp128 | pp512 | tg64 | GB/s (decode) | % of measured bandwidth |"
echo "|---|---:|---:|---:|---:|---:|---:|"
for f in "${formats[@]}"; do
  size=$(stat -c %s "$models/$preset-$f.gguf" |
         awk '{if ($1 >= 1073741824) printf "%.2f GiB", $1 / 1073741824; else printf "%.0f MiB", $1 / 1048576}')
  gbs=$(value "$f" gbs)
  # Percentage per run (each tg run probes the bandwidth right after it), then the median.
  pct=$(awk -v f="$f" '$1 == f && $2 == "gbs" {g[++n] = $3} $1 == f && $2 == "peak" {p[++m] = $3}
        END {for (i = 1; i <= n && i <= m; ++i) if (p[i] > 0) print 100 * g[i] / p[i]}' "$results" | median)
  printf "| %s | %s | %.1f | %.1f | %.2f | %.1f | %.0f%% (of %.1f GB/s) |\n" "$f" "$size" "$(value "$f" pp128)" \
    "$(value "$f" pp512)" "$(value "$f" tg64)" "$gbs" "$pct" "$(value "$f" peak)"
done
