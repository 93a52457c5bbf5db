#!/usr/bin/env bash
# eval_report.sh SIGMACC [--check|--update] - `sigmacc eval` output formats
# (jsonl, csv, table), --summary and every filter on tests/eval/timeline.jsonl
# and the correlation sample events, against golden/eval-report/*.txt (exit
# status, stdout, stderr). Each case runs with -j 1 and -j 2: the outputs
# must be identical, byte for byte. With --update, rewrites the golden files
# (review the diff!).
set -u
bin=$1
mode=${2:---check}
cd "$(dirname "$0")/.." || exit 2
dir=golden/eval-report
mkdir -p "$dir"
T="-r sigma-rules/windows/process_creation -p sigma-rules/pipelines/placeholders.yml tests/eval/timeline.jsonl"
C="-r sigma-rules/windows/builtin/security sigma-rules/windows/builtin/security/win_security_failed_logon_burst.events.jsonl"
rc=0
run() {
  local name=$1; shift
  local out1 out2
  out1=$("$bin" eval -j 1 "$@" 2>&1; echo "exit $?")
  out2=$("$bin" eval -j 2 "$@" 2>&1; echo "exit $?")
  if [ "$out1" != "$out2" ]; then
    echo "eval_report: $name: -j 1 and -j 2 differ"
    diff <(echo "$out1") <(echo "$out2") | head -20
    rc=1
  fi
  if [ "$mode" = --update ]; then
    printf '%s\n' "$out1" > "$dir/$name.txt"
  elif ! diff -u "$dir/$name.txt" <(printf '%s\n' "$out1"); then
    echo "eval_report: $name differs from $dir/$name.txt"
    rc=1
  fi
}
# shellcheck disable=SC2086
{
  run jsonl-fields --fields Computer,EventRecordID $T
  run csv -f csv $T
  run table -f table $T
  run summary --summary $T
  run summary-table --summary -f table $T
  run min-level-high -f csv --min-level high $T
  run status-stable -f csv --status stable $T
  run status-test -f csv --status stable,TEST $T
  run tag -f csv --tag attack.t1204 --tag attack.T1105 --tag attack.t10 $T
  run window -f csv --from 2026-11-28T10:00:00Z --to 2026-11-28 $T
  run window-offset -f table --from 2026-11-28T11:00:00+01:00 --to 2026-11-28T10:05:00Z $T
  run summary-window --summary --min-level medium --from 2026-11-28 $T
  run correlation-csv -f csv $C
  run correlation-table -f table --fields TargetUserName,IpAddress $C
  run correlation-summary --summary $C
  run bad-format -f xml $T
  run bad-level --min-level severe $T
  run bad-status --status draft $T
  run bad-time --from yesterday $T
}
exit $rc
