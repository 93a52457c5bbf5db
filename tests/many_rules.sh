#!/usr/bin/env bash
# many_rules.sh SIGMACC [N] - N rule documents (200,000) in one file convert
# in near-linear time: every rule gets its savedsearches stanza, each title
# twice so stanza names need counters. ctest gives it a timeout that the
# quadratic conversion (correlation lookup and stanza counters per rule)
# could not meet.
set -euo pipefail
sigmacc=$1
n=${2:-200000}
f=$(mktemp /tmp/sigmacc-many-XXXXXX.yml)
trap 'rm -f "$f"' EXIT
awk -v n="$n" 'BEGIN { for (i = 0; i < n; i++)
  printf "---\ntitle: rule %d\nlogsource: {product: windows}\ndetection:\n  sel:\n    Image: x%d\n  condition: sel\n", i % (n / 2), i }' >"$f"
got=$("$sigmacc" convert -t splunk -f savedsearches "$f" | grep -c '^search = ')
[ "$got" -eq "$n" ] || { echo "many_rules: $got stanzas for $n rules"; exit 1; }
last=$("$sigmacc" convert -t splunk -f savedsearches "$f" | grep '^\[' | tail -1)
[ "$last" = "[rule $((n / 2 - 1)) (2)]" ] || { echo "many_rules: last stanza $last"; exit 1; }
echo "many_rules: $n rules, $got stanzas"
