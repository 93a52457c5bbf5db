#!/usr/bin/env bash
# check.sh - time `sigmacc check` over the 3,780 SigmaHQ rules (median of $RUNS).
set -euo pipefail
. "$(dirname "$0")/common.sh"
need_corpus
cd "$CORPUS"
n=$(find "${CORPUS_DIRS[@]}" -name '*.yml' | wc -l)
ms=$(median_ms "$SIGMACC" check "${CORPUS_DIRS[@]}")
echo "check: $n rules, median of $RUNS runs: ${ms} ms"
