#!/usr/bin/env bash
# tsan.sh SIGMACC - the threaded paths under ThreadSanitizer: eval -j 2 (the
# workers, the block queue, the ordered writer, correlations) and convert (the
# files converted in parallel), on the project's rules and, when the corpus and
# the reference events are there, on all of them. Any data race fails.
set -u
bin=$1
cd "$(dirname "$0")/.."
export TSAN_OPTIONS="halt_on_error=1 exitcode=66 ${TSAN_OPTIONS:-}"
rc=0
check() { # a TSan report exits 66; every other exit is the command's own
  "$@" >/dev/null 2>/tmp/sigmacc-tsan.$$
  local st=$?
  if [ $st -eq 66 ] || grep -q "ThreadSanitizer" /tmp/sigmacc-tsan.$$; then
    echo "tsan: a data race in: $*"; head -40 /tmp/sigmacc-tsan.$$; rc=1
  fi
  rm -f /tmp/sigmacc-tsan.$$
}
P="-p sigma-rules/pipelines/placeholders.yml"
check "$bin" eval -j 2 -r sigma-rules $P tests/eval sigma-rules
check "$bin" eval -j 2 -f csv --summary -r sigma-rules $P tests/eval
check "$bin" convert -t splunk -p sysmon -p splunk_windows $P sigma-rules
check "$bin" convert -t aql -p qradar $P -f json sigma-rules
check "$bin" check sigma-rules
corpus=${SIGMACC_CORPUS:-../shared/sigmahq}
events=../shared/reference/events/evtx-attack-samples.jsonl
if [ -d "$corpus/rules" ]; then
  check "$bin" convert -t splunk -s "$corpus/rules"
  [ -f "$events" ] && check "$bin" eval -j 2 -s -r "$corpus/rules" "$events"
fi
[ $rc -eq 0 ] && echo "tsan: eval -j 2, convert and check: no data race"
exit $rc
