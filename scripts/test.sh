#!/usr/bin/env bash
# test.sh - the whole test suite, as CI runs it:
#   1. gcc, -Werror, full ctest (unit, golden, corpus, fuzz-corpus replay)
#   2. clang, -Werror, ASan+UBSan with leak detection, one malloc per arena allocation, full ctest
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
echo "== gcc -Werror"
CC=gcc scripts/build.sh build -DSIGMACC_WERROR=ON
ctest --test-dir build --output-on-failure -j"$(nproc)"
echo "== clang -Werror, AddressSanitizer + UndefinedBehaviorSanitizer"
CC=clang scripts/build.sh build-asan -DSIGMACC_WERROR=ON -DSIGMACC_SANITIZE=ON -DSIGMACC_ARENA_DEBUG=ON -DCMAKE_BUILD_TYPE=Debug
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j"$(nproc)"
