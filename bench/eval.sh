#!/usr/bin/env bash
# eval.sh - the evaluator with all SigmaHQ rules over the EVTX-ATTACK samples
# repeated to >= 100,000 JSON lines: events/s with -j 1 and -j 2 (medians of
# $RUNS runs, interleaved), the ratio, the outputs compared byte for byte, and
# the peak memory. Matches go to a file.
set -euo pipefail
. "$(dirname "$0")/common.sh"
need_corpus
events=$CORPUS/../reference/events/evtx-attack-samples.jsonl
tmp=$(mktemp -d /tmp/sigmacc-bench-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
big=$tmp/events.jsonl
n=0
while [ "$n" -lt 100000 ]; do
  cat "$events" >>"$big"
  n=$((n + $(wc -l <"$events")))
done
cd "$CORPUS"
rules=()
for d in "${CORPUS_DIRS[@]}"; do rules+=(-r "$d"); done
rate() { "$SIGMACC" eval -s -j "$1" "${rules[@]}" --stats "$big" 2>&1 >"$tmp/out$1" | sed -n 's/.* \([0-9]*\) events\/s$/\1/p'; }
r1=() r2=()
for ((i = 0; i < RUNS; i++)); do
  r1+=("$(rate 1)")
  r2+=("$(rate 2)")
done
med() { printf '%s\n' "$@" | sort -n | sed -n "$((($# + 1) / 2))p"; }
m1=$(med "${r1[@]}") m2=$(med "${r2[@]}")
cmp -s "$tmp/out1" "$tmp/out2" && same=identical || same=DIFFERENT
peak=$(/usr/bin/time -f '%M' "$SIGMACC" eval -s -j 1 "${rules[@]}" "$big" 2>&1 >/dev/null | tail -1)
echo "eval: $n JSON events, all rules, medians of $RUNS runs: -j 1 ${m1} events/s, -j 2 ${m2} events/s" \
  "($(awk "BEGIN{printf \"%.2f\", $m2/$m1}")x), outputs $same; peak memory (-j 1) $((peak / 1024)) MB"
