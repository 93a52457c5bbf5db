#!/usr/bin/env bash
# evtx.sh - EVTX input against the same events as JSON lines: all SigmaHQ
# rules over the 277 EVTX-ATTACK-SAMPLES files given $REPEAT times (default
# 12, about 100,000 records) and over their evtx_dump JSON lines as many times.
# Medians of $RUNS runs, interleaved: the CPU time (user + system) of each form
# with -j 1 and their ratio, and records/s (EVTX) and events/s (JSON lines)
# with -j 1 and -j 2. With BASELINE=path/to/an/older/sigmacc, the same for it
# in the same run.
set -euo pipefail
. "$(dirname "$0")/common.sh"
need_corpus
REPEAT=${REPEAT:-12}
mapfile -d '' files < <(find "$CORPUS/../reference/evtx-attack-samples" -name '*.evtx' -print0 | sort -z)
evtx=() json=()
for ((k = 0; k < REPEAT; k++)); do
  evtx+=("${files[@]}")
  json+=("$CORPUS/../reference/events/evtx-attack-samples.jsonl")
done
cd "$CORPUS"
rules=()
for d in "${CORPUS_DIRS[@]}"; do rules+=(-r "$d"); done
# cpu_ms BIN JOBS INPUTS...: the CPU time of one run in ms
cpu_ms() {
  local bin=$1 j=$2 t
  shift 2
  t=$( { TIMEFORMAT='%3U %3S'; time "$bin" eval -s -j "$j" "${rules[@]}" "$@" >/dev/null 2>&1; } 2>&1 )
  awk -v t="$t" 'BEGIN { split(t, a, " "); printf "%d", (a[1] + a[2]) * 1000 }'
}
# rate BIN JOBS INPUTS...: events/s of the matching (rules loaded) as --stats says
rate() {
  local bin=$1 j=$2
  shift 2
  "$bin" eval -s -j "$j" "${rules[@]}" --stats "$@" 2>&1 >/dev/null | sed -n 's/.*events \([0-9]*\),.* \([0-9]*\) events\/s$/\2/p'
}
med() { printf '%s\n' "$@" | sort -n | sed -n "$((($# + 1) / 2))p"; }
n=$("$SIGMACC" dump "${files[@]}" 2>/dev/null | wc -l)
report() {
  local bin=$1 name=$2 ce=() cj=() r1=() r2=() j1=() j2=()
  for ((i = 0; i < RUNS; i++)); do
    ce+=("$(cpu_ms "$bin" 1 "${evtx[@]}")")
    cj+=("$(cpu_ms "$bin" 1 "${json[@]}")")
    r1+=("$(rate "$bin" 1 "${evtx[@]}")")
    r2+=("$(rate "$bin" 2 "${evtx[@]}")")
    j1+=("$(rate "$bin" 1 "${json[@]}")")
    j2+=("$(rate "$bin" 2 "${json[@]}")")
  done
  local e j m1 m2 k1 k2
  e=$(med "${ce[@]}") j=$(med "${cj[@]}") m1=$(med "${r1[@]}") m2=$(med "${r2[@]}")
  k1=$(med "${j1[@]}") k2=$(med "${j2[@]}")
  echo "evtx ($name): $((n * REPEAT)) records, all rules, medians of $RUNS runs: CPU -j 1 EVTX ${e} ms," \
    "JSON lines ${j} ms ($(awk "BEGIN{printf \"%.2f\", $e/$j}")x); EVTX -j 1 ${m1} records/s, -j 2 ${m2}" \
    "records/s ($(awk "BEGIN{printf \"%.2f\", $m2/$m1}")x); JSON lines -j 1 ${k1} events/s, -j 2 ${k2}" \
    "events/s ($(awk "BEGIN{printf \"%.2f\", $k2/$k1}")x)"
}
report "$SIGMACC" this
if [ -n "${BASELINE:-}" ]; then report "$BASELINE" baseline; fi
