#!/usr/bin/env bash
# test.sh - the whole test suite, as CI runs it:
#   1. clang-format: every C file as .clang-format lays it out
#   2. gcc, -Werror, full ctest (unit, golden, corpus, fuzz-corpus replay)
#   3. clang, -Werror, ASan+UBSan with leak detection, one malloc per arena allocation, full ctest
#   4. clang, ThreadSanitizer: eval -j 2, convert and check (tests/tsan.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
echo "== clang-format"
unformatted=$(find include compiler backends runs cli tests bench \( -name '*.c' -o -name '*.h' \) -print | sort |
  while read -r f; do # a here-string: grep -q quitting early must not SIGPIPE clang-format past pipefail
    out=$(clang-format --dry-run "$f" 2>&1); grep -q warning <<<"$out" && echo "$f"; done || true)
if [ -n "$unformatted" ]; then
  echo "clang-format: not laid out as .clang-format says (run clang-format -i):"; echo "$unformatted"; exit 1
fi
echo "== gcc -Werror"
CC=gcc scripts/build.sh build -DSIGMACC_WERROR=ON
ctest --test-dir build --output-on-failure -j"$(nproc)"
echo "== clang -Werror, AddressSanitizer + UndefinedBehaviorSanitizer"
CC=clang scripts/build.sh build-asan -DSIGMACC_WERROR=ON -DSIGMACC_SANITIZE=ON -DSIGMACC_ARENA_DEBUG=ON -DCMAKE_BUILD_TYPE=Debug
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j"$(nproc)"
echo "== clang -Werror, ThreadSanitizer"
CC=clang scripts/build.sh build-tsan -DSIGMACC_WERROR=ON -DSIGMACC_TSAN=ON -DSIGMACC_TESTS=OFF
tests/tsan.sh build-tsan/sigmacc
