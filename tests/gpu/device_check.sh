#!/usr/bin/env bash
# The GPU check, for a machine with an NVIDIA GPU, CUDA, CMake and a C++ compiler (no Qt, no
# network). Builds strata-cli and the CUDA module (sm_90 only, to stay fast), times the copy links
# (`strata-cli probe links`: host <-> GPU, GPU <-> GPU), runs the GPU tests with `ctest -L gpu`
# (the full selftest over the GPU: every op against its reference, whole models GPU vs CPU, in
# four tests of one process each; tests/gpu/tst_cuda_selftest.cpp), measures the GPU's
# ceilings (`selftest --probe`: device-to-device copy bandwidth, cuBLAS F16 GEMM peak), then
# benchmarks random-weight models of TinyLlama-1.1B and Llama-2-7B shape generated on the spot:
# pp512 and tg128, decode bandwidth as % of the measured HBM bandwidth, prefill TFLOP/s as % of
# the measured GEMM peak; then 7B Q4_0 decode with CUDA graphs, fusion and programmatic dependent
# launch each switched off, the opt-in tensor-core prefill attention (checked, then timed against
# the default), and a launch profile (every kernel timed alone) of the 7B Q4_0 model. Ends with a
# markdown table (the last thing printed).
#
#   OUT=/somewhere bash tests/gpu/device_check.sh
#
# $OUT (default out/device_check) receives table.md and logs.tar.gz (every log, re-packed after
# each phase, so a run cut short still leaves its logs); the logs themselves are written to
# LOGS_DIR (default /tmp/strata-device-check-logs).
#
# Environment: BUILD_DIR (default /tmp/strata-gpu-build), MODELS_DIR (/tmp/strata-models,
# removed at the end unless KEEP_MODELS=1), CUDA_ARCH (90), BUDGET_S (400: benchmarks that would
# start later than this are skipped and listed as such). When selftest parts fail on a GPU where
# programmatic dependent launch is on, they run again with it off; if that mends them, the
# benchmarks run with STRATA_CUDA_PDL=0 and the summary says so.
set -u -o pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
OUT=${OUT:-$ROOT/out/device_check}
LOGS=${LOGS_DIR:-/tmp/strata-device-check-logs}
BUILD=${BUILD_DIR:-/tmp/strata-gpu-build}
MODELS=${MODELS_DIR:-/tmp/strata-models}
ARCH=${CUDA_ARCH:-90}
BUDGET=${BUDGET_S:-400}
JOBS=$(nproc 2>/dev/null || echo 8)
rm -rf "$LOGS"
mkdir -p "$OUT" "$MODELS" "$LOGS"
T0=$(date +%s)
elapsed() { echo $(( $(date +%s) - T0 )); }
pack() { tar -czf "$OUT/logs.tar.gz" -C "$(dirname "$LOGS")" "$(basename "$LOGS")" 2>/dev/null; }
phase() { pack; echo; echo "=== [$(date +%H:%M:%S) +$(elapsed)s] $*"; }
CLI="$BUILD/engine/cli/strata-cli"
SUMMARY="$LOGS/summary.md"
: > "$SUMMARY"
note() { echo "$*"; echo "- $*" >> "$SUMMARY"; }

# ---- 1. the machine ------------------------------------------------------------------------------
phase "machine"
{
    date -u
    nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm,clocks.max.mem --format=csv 2>&1
    nvcc --version 2>&1 | tail -2
    cmake --version 2>&1 | head -1
    ${CXX:-g++} --version 2>&1 | head -1
    lscpu 2>/dev/null | grep -E "Model name|^CPU\(s\)"
    free -g | head -2
    df -h "$MODELS" | tail -1
} | tee "$LOGS/machine.log"
GPU_NAME=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1)

# ---- 2. build ----------------------------------------------------------------------------------------
phase "configure and build (sm_$ARCH, $JOBS jobs)"
GEN=()
command -v ninja >/dev/null 2>&1 && GEN=(-G Ninja)
if ! cmake -S "$ROOT" -B "$BUILD" ${GEN[@]+"${GEN[@]}"} -DSTRATA_QT=OFF -DSTRATA_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES="$ARCH" \
        -DCMAKE_BUILD_TYPE=Release > "$LOGS/build.log" 2>&1 ||
   ! cmake --build "$BUILD" -j "$JOBS" --target strata-cli strata_cuda tst_cuda_selftest >> "$LOGS/build.log" 2>&1; then
    tail -40 "$LOGS/build.log"
    echo "BUILD FAILED (log: $LOGS/build.log)"
    exit 1
fi
grep -c -i "warning" "$LOGS/build.log" | xargs -I{} echo "build warnings: {}"
ls -la "$BUILD/engine/cli/strata-cli" "$BUILD/engine/cli/libstrata_cuda.so"
# Live telemetry through NVML (first run on real hardware: compare with nvidia-smi above).
"$CLI" devices 2>&1 | tee "$LOGS/devices.log"
# Copy speeds host <-> GPU and GPU <-> GPU (strata-cli probe links), stored in the logs' own data
# directory; then the planner's link speeds as devices shows them (measured where probed).
XDG_DATA_HOME="$LOGS/xdg" "$CLI" probe links 2>&1 | tee "$LOGS/probe-links.log"
XDG_DATA_HOME="$LOGS/xdg" "$CLI" devices 2>&1 | sed -n '/^planner/,/^cpu:/p' | tee -a "$LOGS/probe-links.log"

# ---- 3. models: generated in the background while the GPU checks run ----------------------------------
phase "model generation (background)"
MIX=Q4_K_M
"$CLI" gen-model --preset tiny --embd 256 --ff 512 --type Q4_K_M "$MODELS/mixprobe.gguf" > /dev/null 2>&1
if ! "$CLI" info "$MODELS/mixprobe.gguf" 2>/dev/null | grep -q "^Q4_K "; then
    MIX=Q4_K
    note "gen-model does not implement the Q4_K_M mix yet: the 'Q4_K_M' rows below use Q4_K for every matrix"
fi
rm -f "$MODELS/mixprobe.gguf"
# Most important first: the 7B decode targets (Q4_0, Q4_K_M), the 7B prefill target (F16).
MODEL_LIST=("llama2-7b Q4_0" "llama2-7b $MIX" "llama2-7b F16" "tinyllama F16" "tinyllama Q8_0" "tinyllama $MIX")
(
    for m in "${MODEL_LIST[@]}"; do
        set -- $m
        f="$MODELS/$1-$2.gguf"
        s=$(date +%s)
        # niced: the selftest running meanwhile keeps its CPU time
        if nice -n 10 "$CLI" gen-model --preset "$1" --type "$2" "$f.part" > /dev/null 2>>"$LOGS/gen.log"; then
            mv "$f.part" "$f"
            echo "$1 $2: $(( $(date +%s) - s )) s, $(du -h "$f" | cut -f1)" >> "$LOGS/gen.log"
        else
            echo "$1 $2: FAILED" >> "$LOGS/gen.log"
        fi
    done
    echo done >> "$LOGS/gen.log"
) &
GEN_PID=$!

# ---- 4. probe: the ceilings -------------------------------------------------------------------------
phase "probe (copy bandwidth, cuBLAS F16 GEMM peak)"
"$CLI" selftest --probe 2>&1 | tee "$LOGS/probe.log"
PROBE=$(grep "^PROBE cuda0" "$LOGS/probe.log" | head -1)
val() { echo "$PROBE" | tr ' ' '\n' | grep "^$1=" | cut -d= -f2; }
COPY_GBS=$(val copy_gbs); READ_GBS=$(val read_gbs); GEMM_TF=$(val gemm_tflops)
COPY_GBS=${COPY_GBS:-0}; READ_GBS=${READ_GBS:-0}; GEMM_TF=${GEMM_TF:-0}

# ---- 5. selftest: ctest -L gpu ------------------------------------------------------------------------
# Every test labelled gpu, one at a time (each its own log). The selftest is registered as four
# tests, one process per suite group (tests/gpu/CMakeLists.txt), so a GPU error that poisons a
# CUDA context cannot hide the results of the other groups; each ends with
# "SELFTEST <suites>: N passed, M failed". tst_cuda_resources (the owning CUDA handles, live on a
# GPU) is one more.
phase "selftest: ctest -L gpu (one process per suite group)"
mapfile -t GPU_TESTS < <(ctest --test-dir "$BUILD" -N -L gpu | sed -nE 's/^ *Test +#[0-9]+: (.*)$/\1/p')
[ ${#GPU_TESTS[@]} -gt 0 ] || note "ctest -L gpu lists no tests (was $BUILD configured by this script?)"
# run_part TEST LOG [VAR=value ...]: one gpu test through ctest into LOG (ctest's "N: " prefixes
# removed); sets $line to its closing "N passed, M failed" ("" when it did not finish or was
# skipped) and $rc to ctest's exit status.
run_part() {
    local test=$1 log=$2
    shift 2
    env "$@" ctest --test-dir "$BUILD" -L gpu -R "^${test}\$" -V 2>&1 | sed -E 's/^[0-9]+: //' > "$log"
    rc=$?
    line=$(grep -E "^SELFTEST [^ ]+: [0-9]+ passed, [0-9]+ failed$" "$log" | tail -1 | sed -E 's/^SELFTEST [^ ]+: //')
    if grep -q "\*\*\*Skipped" "$log"; then  # no GPU seen: a failure here
        line=""
        grep -E "^SKIP " "$log" | head -1
    elif [ -z "$line" ] && [ "$rc" = 0 ]; then  # a passing test without case counts counts as one
        line="1 passed, 0 failed"
    fi
}
ST_PASS=0; ST_FAIL=0; ST_LINE=""; FAILED_PARTS=()
for part in ${GPU_TESTS[@]+"${GPU_TESTS[@]}"}; do
    log="$LOGS/selftest-${part#tst_}.log"
    run_part "$part" "$log"
    echo "--- ctest $part: ${line:-did not finish or skipped (exit $rc)} ($(grep -E "Total Test time" "$log" | tail -1))"
    grep -E "^\| " "$log" | grep -v "|      0 |" | grep -v "^| check" | head -40
    grep -E "^  FAIL" "$log" | head -25
    if [ -n "$line" ]; then
        ST_PASS=$((ST_PASS + $(echo "$line" | cut -d' ' -f1)))
        ST_FAIL=$((ST_FAIL + $(echo "$line" | cut -d' ' -f3)))
        [ "$(echo "$line" | cut -d' ' -f3)" = 0 ] && [ "$rc" = 0 ] || FAILED_PARTS+=("$part")
    else
        ST_FAIL=$((ST_FAIL + 1)); ST_LINE+="($part did not finish or skipped) "; FAILED_PARTS+=("$part")
        tail -5 "$log"
    fi
done
ST_LINE="$ST_PASS passed, $ST_FAIL failed $ST_LINE"
echo "selftest total: $ST_LINE"

# Programmatic dependent launch is on by default from compute capability 9.0 and has never run
# before this check. When parts failed with it, run them again with it off: if they pass so, it
# is the cause, and everything below runs with STRATA_CUDA_PDL=0, so this one run still measures
# the rest instead of needing a second.
CC_MAJOR=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -1 | cut -d. -f1)
if [ ${#FAILED_PARTS[@]} -gt 0 ] && [ "${STRATA_CUDA_PDL:-1}" != 0 ] && [ "${CC_MAJOR:-0}" -ge 9 ] 2>/dev/null; then
    phase "selftest again with STRATA_CUDA_PDL=0 (the parts that failed: ${FAILED_PARTS[*]})"
    PDL_CAUSE=1
    for part in "${FAILED_PARTS[@]}"; do
        log="$LOGS/selftest-${part#tst_}-pdl-off.log"
        run_part "$part" "$log" STRATA_CUDA_PDL=0
        echo "--- STRATA_CUDA_PDL=0 ctest $part: ${line:-did not finish}"
        grep -E "^  FAIL" "$log" | head -10
        [ -n "$line" ] && [ "$(echo "$line" | cut -d' ' -f3)" = 0 ] || PDL_CAUSE=0
    done
    if [ $PDL_CAUSE = 1 ]; then
        export STRATA_CUDA_PDL=0
        note "programmatic dependent launch broke the selftest (${FAILED_PARTS[*]}): with STRATA_CUDA_PDL=0 those parts pass, so every benchmark below ran with it off"
    else
        note "the selftest failures (${FAILED_PARTS[*]}) remain with STRATA_CUDA_PDL=0: not caused by programmatic dependent launch"
    fi
fi

# ---- 6. benchmarks --------------------------------------------------------------------------------------
phase "waiting for the models"
while kill -0 $GEN_PID 2>/dev/null; do
    [ "$(elapsed)" -gt $((BUDGET + 60)) ] && { echo "model generation is too slow; stopping it"; kill $GEN_PID; break; }
    sleep 2
done
cat "$LOGS/gen.log" 2>/dev/null

ROWS=()
bench() {  # preset type
    local f="$MODELS/$1-$2.gguf" log="$LOGS/bench-$1-$2.log"
    if [ ! -f "$f" ]; then ROWS+=("| $1 | $2 | not generated | | | | | | |"); return; fi
    if [ "$(elapsed)" -gt "$BUDGET" ]; then ROWS+=("| $1 | $2 | skipped (time budget) | | | | | | |"); return; fi
    phase "bench $1 $2"
    STRATA_CUDA_VERBOSE=1 "$CLI" bench -m "$f" --devices cuda0 --pp 512 --tg 128 --repeats 3 --no-probe > "$log" 2>&1
    grep -E "^(pp|tg)[0-9]|bytes per decoded|flushes|error" "$log"
    local pp tg gbs gfl wb
    pp=$(awk '$1=="pp512"{print $2}' "$log"); gfl=$(awk '$1=="pp512"{print $5}' "$log")
    tg=$(awk '$1=="tg128"{print $2}' "$log"); gbs=$(awk '$1=="tg128"{print $4}' "$log")
    wb=$(grep "bytes per decoded token" "$log" | sed 's/.*: //')
    if [ -z "$pp" ] || [ -z "$tg" ]; then ROWS+=("| $1 | $2 | bench failed (see bench-$1-$2.log) | | | | | | |"); return; fi
    ROWS+=("$(awk -v m="$1" -v t="$2" -v wb="$wb" -v pp="$pp" -v gfl="$gfl" -v tg="$tg" -v gbs="$gbs" \
        -v copy="$COPY_GBS" -v rd="$READ_GBS" -v gemm="$GEMM_TF" 'BEGIN {
        pg = (gemm > 0) ? 100 * gfl / 1000 / gemm : 0; pc = (copy > 0) ? 100 * gbs / copy : 0; pr = (rd > 0) ? 100 * gbs / rd : 0
        printf "| %s | %s | %s | %.0f | %.1f | %.0f%% | %.1f | %.0f | %.0f%% / %.0f%% |", m, t, wb, pp, gfl / 1000, pg, tg, gbs, pc, pr }')")
}
for m in "${MODEL_LIST[@]}"; do bench $m; done

# What CUDA graphs and fusion gain: 7B Q4_0 decode with each switched off.
GAIN=""
if [ -f "$MODELS/llama2-7b-Q4_0.gguf" ] && [ "$(elapsed)" -lt $((BUDGET + 30)) ]; then
    phase "decode with CUDA graphs / fusion / programmatic dependent launch off (7B Q4_0)"
    for sw in STRATA_CUDA_GRAPHS STRATA_CUDA_FUSE STRATA_CUDA_PDL; do
        env $sw=0 "$CLI" bench -m "$MODELS/llama2-7b-Q4_0.gguf" --devices cuda0 --pp 1 --tg 128 --repeats 2 --no-probe --no-store \
            > "$LOGS/bench-7b-q4_0-$sw-off.log" 2>&1
        GAIN+="$sw=0: $(awk '$1=="tg128"{print $2}' "$LOGS/bench-7b-q4_0-$sw-off.log") tok/s; "
    done
    echo "$GAIN"
fi

# The tensor-core prefill attention (opt-in, STRATA_CUDA_ATTN=mma, until a run here has checked
# it): its selftest cases, then pp512 and pp2048 of the 7B F16 model (where attention is the
# largest share of prefill) with the default kernel (hd) and with it.
MMA=""
if [ "$(elapsed)" -lt $((BUDGET + 40)) ]; then
    phase "tensor-core prefill attention (STRATA_CUDA_ATTN=mma)"
    log="$LOGS/selftest-attention-mma.log"
    STRATA_CUDA_ATTN=mma "$CLI" selftest --only attention > "$log" 2>&1
    line=$(grep -E "^[0-9]+ passed, [0-9]+ failed$" "$log" | tail -1)
    grep -E "^  FAIL" "$log" | head -10
    MMA="attention selftest with STRATA_CUDA_ATTN=mma: ${line:-did not finish (see selftest-attention-mma.log)}"$'\n'
    for m in "llama2-7b F16"; do
        set -- $m
        f="$MODELS/$1-$2.gguf"
        [ -f "$f" ] || continue
        for mode in hd mma; do
            blog="$LOGS/bench-$1-$2-attn-$mode.log"
            STRATA_CUDA_ATTN=$mode "$CLI" bench -m "$f" --devices cuda0 --pp 512,2048 --tg 0 --repeats 2 --no-probe --no-store \
                > "$blog" 2>&1
            MMA+="  $1 $2 attention=$mode: pp512 $(awk '$1=="pp512"{print $2}' "$blog"), pp2048 $(awk '$1=="pp2048"{print $2}' "$blog") tok/s"$'\n'
        done
    done
    printf '%s' "$MMA"
fi

# Where a step's time goes: every launch timed on its own (STRATA_CUDA_PROFILE=1, eager, the
# GPU held until a segment is enqueued so CPU launch time stays out). Decode rows end in t1,
# prefill rows in t512.
PROFILES=""
for m in "llama2-7b Q4_0"; do
    set -- $m
    f="$MODELS/$1-$2.gguf"
    [ -f "$f" ] && [ "$(elapsed)" -lt $((BUDGET + 45)) ] || continue
    phase "launch profile $1 $2 (pp512, tg32)"
    log="$LOGS/profile-$1-$2.log"
    STRATA_CUDA_PROFILE=1 "$CLI" bench -m "$f" --devices cuda0 --pp 512 --tg 32 --repeats 1 --no-probe --no-store > "$log" 2>&1
    sed -n '/launch profile/,$p' "$log" | head -32
    PROFILES+="$1 $2 (pp512 + tg32, launch profile, top rows):"$'\n'"$(sed -n '/launch profile/,$p' "$log" | head -20)"$'\n'
done

[ "${KEEP_MODELS:-0}" = 1 ] || rm -rf "$MODELS"

# Out-of-bounds and misaligned accesses that happen not to change results: the quick op checks
# under compute-sanitizer, when there is time left.
if command -v compute-sanitizer > /dev/null 2>&1 && [ "$(elapsed)" -lt $((BUDGET + 20)) ]; then
    phase "compute-sanitizer memcheck (quick op checks, at most 60 s)"
    timeout 60 compute-sanitizer --tool memcheck --print-limit 20 --error-exitcode 3 \
        "$CLI" selftest --quick --ops-only > "$LOGS/memcheck.log" 2>&1
    rc=$?
    grep -E "ERROR SUMMARY|Invalid|passed, " "$LOGS/memcheck.log" | head -12
    case $rc in 0) note "compute-sanitizer memcheck: clean (quick op checks)";; 124) note "compute-sanitizer memcheck: stopped after 60 s (see memcheck.log)";;
        *) note "compute-sanitizer memcheck: exit $rc — see memcheck.log";; esac
fi

# ---- 7. summary -----------------------------------------------------------------------------------------
phase "done in $(elapsed) s"
{
    echo
    echo "GPU: ${GPU_NAME:-?}; $(date -u +%Y-%m-%d); build sm_$ARCH; selftest: ${ST_LINE:-did not finish}"
    echo "measured: device-to-device copy ${COPY_GBS} GB/s (read + write), streaming read ${READ_GBS} GB/s, cuBLAS F16 GEMM ${GEMM_TF} TFLOP/s"
    [ -n "$GAIN" ] && echo "7B Q4_0 tg128 with $GAIN(table row: both on)"
    cat "$SUMMARY"
    echo "links (probe links):"; grep -E "^(host|cuda)" "$LOGS/probe-links.log" 2>/dev/null | sed 's/^/    /'
    [ -n "$MMA" ] && printf '%s' "$MMA"
    [ -n "$PROFILES" ] && printf '%s' "$PROFILES"
    echo "kernels alone (selftest --probe):"
    grep -E "^  (matvec|matmul|dequant) " "$LOGS/probe.log" | sed 's/^  /    /' 
    echo
    echo "| model | type | weights/token | pp512 tok/s | prefill TFLOP/s | % GEMM peak | tg128 tok/s | decode GB/s | % HBM (copy / read) |"
    echo "|---|---|---|---|---|---|---|---|---|"
    for r in ${ROWS[@]+"${ROWS[@]}"}; do echo "$r"; done
} | tee "$LOGS/table.md"
cp "$LOGS/table.md" "$OUT/table.md"
pack
