#!/usr/bin/env bash
# pages.sh - time `sigmacc pages` on the SigmaHQ corpus (every rule folder, the default
# three platforms: AQL with qradar, SPL and SPL2 with sysmon and splunk_windows), writing a
# fresh site each run, beside `convert -t splunk` on the same rules (median of $RUNS). The
# site goes to $PAGES_DIR (default /dev/shm when writable, else $TMPDIR): on this machine class
# creating 8,000 files on the ext4 disk costs more than generating them.
set -euo pipefail
. "$(dirname "$0")/common.sh"
need_corpus
cd "$CORPUS"
base=${PAGES_DIR:-$( [ -w /dev/shm ] && echo /dev/shm || echo "${TMPDIR:-/tmp}")}
site=$(mktemp -d "$base/sigmacc-pages-bench.XXXXXX")
trap 'rm -rf "$site"' EXIT
pages=$(median_ms bash -c "rm -rf '$site/s' && '$SIGMACC' pages -o '$site/s' ${CORPUS_DIRS[*]}")
spl=$(median_ms "$SIGMACC" convert -t splunk -p sysmon -p splunk_windows -s "${CORPUS_DIRS[@]}")
"$SIGMACC" pages -o "$site/s" "${CORPUS_DIRS[@]}" 2>&1 | tail -1
echo "pages into $base, 3 platforms, median of $RUNS runs: ${pages} ms (convert -t splunk alone: ${spl} ms)"
