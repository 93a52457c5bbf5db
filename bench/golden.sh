#!/usr/bin/env bash
# golden.sh - time the whole golden check (all of sigma-rules/, every target
# and format, and the evaluator's verdicts), median of $RUNS.
set -euo pipefail
. "$(dirname "$0")/common.sh"
root=$(cd "$(dirname "$0")/.." && pwd)
ms=$(median_ms bash "$root/tests/golden.sh" "$SIGMACC" --check "$root")
echo "golden check, all targets: median of $RUNS runs: ${ms} ms"
