# common.sh - helpers for the benchmark scripts (sourced).
# median_ms CMD...: run CMD $RUNS times (default 5), print the median wall time in ms.
RUNS=${RUNS:-5}
CORPUS=${SIGMACC_CORPUS:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/../shared/sigmahq}
SIGMACC=${SIGMACC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/build/sigmacc}
CORPUS_DIRS=(rules rules-emerging-threats rules-threat-hunting rules-compliance rules-placeholder)

median_ms() {
  local times=() t0 t1
  for ((i = 0; i < RUNS; i++)); do
    t0=$(date +%s%N)
    "$@" >/dev/null 2>&1 || true
    t1=$(date +%s%N)
    times+=($(((t1 - t0) / 1000000)))
  done
  printf '%s\n' "${times[@]}" | sort -n | sed -n "$(((RUNS + 1) / 2))p"
}

need_corpus() {
  if [ ! -d "$CORPUS/rules" ]; then
    echo "bench: SigmaHQ corpus not found at $CORPUS (set SIGMACC_CORPUS)" >&2
    exit 1
  fi
}
