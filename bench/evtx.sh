#!/usr/bin/env bash
# evtx.sh - EVTX input: all SigmaHQ rules over the 277 EVTX-ATTACK-SAMPLES
# files given $REPEAT times (default 12, about 100,000 records), events/s with
# -j 1 and -j 2 (medians of $RUNS), and libevtx alone on the same files
# (bench/evtx_read.c: open, render each record's XML), so the share of the
# time spent inside libevtx.
set -euo pipefail
. "$(dirname "$0")/common.sh"
need_corpus
REPEAT=${REPEAT:-12}
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d /tmp/sigmacc-bench-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
cc -O2 -o "$tmp/evtx_read" "$here/evtx_read.c" $(pkg-config --cflags --libs libevtx libbfio)
mapfile -d '' files < <(find "$CORPUS/../reference/evtx-attack-samples" -name '*.evtx' -print0 | sort -z)
inputs=()
for ((k = 0; k < REPEAT; k++)); do inputs+=("${files[@]}"); done
cd "$CORPUS"
rules=()
for d in "${CORPUS_DIRS[@]}"; do rules+=(-r "$d"); done
rate() { "$SIGMACC" eval -s -j "$1" "${rules[@]}" --stats "${inputs[@]}" 2>&1 >/dev/null | sed -n 's/.*events \([0-9]*\),.* \([0-9]*\) events\/s$/\1 \2/p'; }
r1=() r2=() n=0
for ((i = 0; i < RUNS; i++)); do
  read -r n x <<<"$(rate 1)"; r1+=("$x")
  read -r n x <<<"$(rate 2)"; r2+=("$x")
done
med() { printf '%s\n' "$@" | sort -n | sed -n "$((($# + 1) / 2))p"; }
m1=$(med "${r1[@]}") m2=$(med "${r2[@]}")
lib_ms=$(median_ms "$tmp/evtx_read" "${inputs[@]}")
lib_rate=$((n * 1000 / (lib_ms > 0 ? lib_ms : 1)))
echo "evtx: $n records in $((${#inputs[@]})) files, all rules, medians of $RUNS runs: -j 1 ${m1} events/s," \
  "-j 2 ${m2} events/s; libevtx alone (open + XML per record): ${lib_rate} records/s, so" \
  "$(awk "BEGIN{printf \"%.0f\", 100 * $m1 / $lib_rate}")% of the -j 1 time is inside libevtx"
