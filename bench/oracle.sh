#!/usr/bin/env bash
# oracle.sh - the full semantic oracle: every SigmaHQ rule against every real
# event (and its generated events), the SPL and AQL models against the
# evaluator (CI runs a sample: tests/test_oracle.c). Prints its counts and time.
set -euo pipefail
. "$(dirname "$0")/common.sh"
need_corpus
bin=$(dirname "$SIGMACC")/tests/test_oracle
[ -x "$bin" ] || { echo "oracle: build the tests first (scripts/build.sh)"; exit 2; }
SIGMACC_ORACLE_FULL=1 /usr/bin/time -f 'oracle: %e s wall, %M KB peak' "$bin" 2>&1 | grep '^oracle'
