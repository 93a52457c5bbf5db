#!/usr/bin/env bash
# golden.sh SIGMACC [--check|--update] [ROOT] - the project's golden check, through the same
# user-facing commands users run in their CI: every rule under sigma-rules/
# for every target and format against golden/, plus the evaluator's verdicts
# on each rule's sample events. With --update, rewrites golden/ (review the diff!).
set -u
bin=$1
mode=${2:---check}
cd "${3:-$(dirname "$0")/..}" || exit 2
P="-p sigma-rules/pipelines/placeholders.yml"
rc=0
run() {
  local dir=$1; shift
  "$bin" "$@" "$mode" "golden/$dir" || rc=1
}
run aql/default convert -t aql -p qradar $P sigma-rules
run aql/detection convert -t aql -p sigma-rules/pipelines/qradar-site.yml $P -f detection sigma-rules
run splunk/default convert -t splunk -p sysmon -p splunk_windows $P sigma-rules
run splunk/savedsearches convert -t splunk -p sysmon -p splunk_windows $P -f savedsearches sigma-rules
run text/default convert -t text sigma-rules
run pages pages --config docs/pages.yml $P sigma-rules
run eval eval -r sigma-rules $P --fields EventRecordID,SignatureStatus,Signature
exit $rc
