#!/usr/bin/env bash
# pipeline_examples.sh SIGMACC [--check|--update] - every pySigma pipeline
# example of ../shared/reference/pipelines/pipeline_examples with its rule,
# and the community pipelines with three corpus rules each, converted with
# -t splunk and -t aql where allowed_backends permits (-t ast, the processed
# rule, for a pipeline meant for neither); stdout, stderr and exit code are
# compared with golden/pipeline-examples/ (reviewed when written). Skips
# when the shared reference data is absent.
set -u
bin=$1
mode=${2:---check}
cd "$(dirname "$0")/.." || exit 2
ref=${SIGMACC_CORPUS:-../shared/sigmahq}/../reference/pipelines
corpus=${SIGMACC_CORPUS:-../shared/sigmahq}
if [ ! -d "$ref/pipeline_examples" ]; then
  echo "pipeline_examples: no reference pipelines; skipped"
  exit 0
fi
out=golden/pipeline-examples
mkdir -p "$out"
rc=0 n=0 diffs=0
one() { # NAME TARGET PIPELINE RULE...
  local name=$1 target=$2 pipe=$3
  shift 3
  local got
  got=$("$bin" convert -t "$target" -p "$pipe" "$@" 2>&1; echo "[exit $?]")
  got=${got//$ref\//<ref>/}
  got=${got//$corpus\//<corpus>/}
  local file="$out/$name.$target.txt"
  n=$((n + 1))
  if [ "$mode" = --update ]; then
    printf '%s\n' "$got" >"$file"
  elif ! diff -u "$file" <(printf '%s\n' "$got") >/dev/null 2>&1; then
    echo "--- $file differs:"
    diff -u "$file" <(printf '%s\n' "$got") | head -20
    diffs=$((diffs + 1))
    rc=1
  fi
}
targets() { # the targets a pipeline allows (any: both text targets; none of ours: ast)
  local list
  list=$(sed -n '/^allowed_backends:/,/^[^ -]/p' "$1" | sed -n 's/^ *- *\([a-z_0-9]*\).*/\1/p')
  if [ -z "$list" ]; then
    echo splunk aql
    return
  fi
  local t found=
  for t in splunk aql; do
    if printf '%s\n' "$list" | grep -qx "$t"; then
      echo "$t"
      found=1
    fi
  done
  [ -n "$found" ] || echo ast
}
for p in $(find "$ref/pipeline_examples" -name pipeline.yml | sort); do
  d=$(dirname "$p")
  name=$(basename "$(dirname "$d")")-$(basename "$d")
  for t in $(targets "$p"); do one "$name" "$t" "$p" "$d/rule.yml"; done
done
rules=("$corpus/rules/windows/process_creation/proc_creation_win_renamed_whoami.yml"
  "$corpus/rules/windows/network_connection/net_connection_win_certutil_initiated_connection.yml"
  "$corpus/rules/windows/registry/registry_set/registry_set_aedebug_persistence.yml")
for p in $(find "$ref/splunk_pipelines" "$ref/elastic_pipelines" -name '*.yml' | sort); do
  for t in $(targets "$p"); do one "community-$(basename "$p" .yml)" "$t" "$p" "${rules[@]}"; done
done
if [ "$mode" = --update ]; then
  echo "pipeline_examples: $n outputs written to $out"
else
  echo "pipeline_examples: $n outputs, $diffs differ"
fi
exit $rc
