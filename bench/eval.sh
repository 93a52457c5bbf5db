#!/usr/bin/env bash
# eval.sh - the evaluator with all 3,780 SigmaHQ rules over the EVTX-ATTACK
# samples repeated to >= 100,000 events (median of $RUNS, one core), and its
# peak memory. Matches go to /dev/null.
set -euo pipefail
. "$(dirname "$0")/common.sh"
need_corpus
events=$CORPUS/../reference/events/evtx-attack-samples.jsonl
big=$(mktemp /tmp/sigmacc-bench-XXXXXX.jsonl)
trap 'rm -f "$big"' EXIT
n=0
while [ "$n" -lt 100000 ]; do
  cat "$events" >>"$big"
  n=$((n + $(wc -l <"$events")))
done
cd "$CORPUS"
rules=()
for d in "${CORPUS_DIRS[@]}"; do rules+=(-r "$d"); done
rates=()
for ((i = 0; i < RUNS; i++)); do
  rate=$("$SIGMACC" eval -s "${rules[@]}" --stats "$big" 2>&1 >/dev/null | sed -n 's/.* \([0-9]*\) events\/s$/\1/p')
  rates+=("$rate")
done
median=$(printf '%s\n' "${rates[@]}" | sort -n | sed -n "$(((RUNS + 1) / 2))p")
peak=$(/usr/bin/time -f '%M' "$SIGMACC" eval -s "${rules[@]}" "$big" 2>&1 >/dev/null | tail -1)
echo "eval: $n events, 3,780 rules, median of $RUNS runs: ${median} events/s; peak memory $((peak / 1024)) MB"
