#!/usr/bin/env bash
# convert.sh - time converting the 3,780 SigmaHQ rules to Splunk SPL, SPL2 and
# QRadar AQL (median of $RUNS), with and without the built-in pipelines (each new
# target and pipeline is held to 2x the time of -t splunk).
# The reference (sigma-cli + pySigma) takes 11-12 s (SPL) and 14 s (AQL) for
# the same rules on this machine class.
set -euo pipefail
. "$(dirname "$0")/common.sh"
need_corpus
cd "$CORPUS"
spl_bare=$(median_ms "$SIGMACC" convert -t splunk --without-pipeline -s "${CORPUS_DIRS[@]}")
spl=$(median_ms "$SIGMACC" convert -t splunk -p sysmon -p splunk_windows -s "${CORPUS_DIRS[@]}")
aql_bare=$(median_ms "$SIGMACC" convert -t aql --without-pipeline -s "${CORPUS_DIRS[@]}")
aql=$(median_ms "$SIGMACC" convert -t aql -p qradar -s "${CORPUS_DIRS[@]}")
spl2=$(median_ms "$SIGMACC" convert -t splunk_spl2 -s "${CORPUS_DIRS[@]}")
spl2_module=$(median_ms "$SIGMACC" convert -t splunk_spl2 -f module -p splunk_windows -s "${CORPUS_DIRS[@]}")
aql_fields=$(median_ms "$SIGMACC" convert -t aql -p qradar-aql-fields -s "${CORPUS_DIRS[@]}")
aql_payload=$(median_ms "$SIGMACC" convert -t aql -p qradar-aql-payload -s "${CORPUS_DIRS[@]}")
echo "convert 3,780 rules, median of $RUNS runs:"
echo "  splunk, no pipeline:                 ${spl_bare} ms"
echo "  splunk, -p sysmon -p splunk_windows: ${spl} ms"
echo "  aql, no pipeline:                    ${aql_bare} ms"
echo "  aql, -p qradar:                      ${aql} ms"
echo "  splunk_spl2, no pipeline:            ${spl2} ms ($((spl2 * 100 / spl_bare))% of splunk)"
echo "  splunk_spl2 -f module, splunk_windows: ${spl2_module} ms"
echo "  aql, -p qradar-aql-fields:           ${aql_fields} ms ($((aql_fields * 100 / spl_bare))% of splunk)"
echo "  aql, -p qradar-aql-payload:          ${aql_payload} ms ($((aql_payload * 100 / spl_bare))% of splunk)"
echo "  pipeline overhead: splunk +$(((spl - spl_bare) * 100 / spl_bare))%, aql +$(((aql - aql_bare) * 100 / aql_bare))%"
