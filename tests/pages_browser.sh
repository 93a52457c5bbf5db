#!/usr/bin/env bash
# pages_browser.sh SIGMACC - the detection pages in a real browser (headless Chromium) and
# HTML Tidy: the site of sigma-rules/ (docs/pages.yml) has no Tidy error or warning on any
# page; the target rule's page, a technique page and the index load without a console
# message in the light and the dark theme (screenshots kept in the build folder); the
# index's search, from file:// with no server, finds the target rule by a field name.
# Skips (77) when chromium or tidy is missing.
set -u
bin=$(realpath "$1")
root=$(cd "$(dirname "$0")/.." && pwd)
command -v chromium >/dev/null && command -v tidy >/dev/null || { echo "pages_browser: chromium or tidy missing: skipped"; exit 77; }
shots=${SIGMACC_SHOTS:-$PWD} # the build folder under ctest
site=$(mktemp -d)
trap 'rm -rf "$site"' EXIT
cd "$root" || exit 2
"$bin" pages -o "$site" --config docs/pages.yml -p sigma-rules/pipelines/placeholders.yml sigma-rules || exit 1
fail=0
while IFS= read -r f; do
  if ! out=$(tidy -q -e "$f" 2>&1); then
    echo "pages_browser: tidy on ${f#"$site"/}:"; echo "$out" | head -5; fail=1
  fi
done < <(find "$site" -name '*.html' | sort)
chrome() { chromium --headless --no-sandbox --disable-gpu --enable-logging=stderr --v=0 --window-size=1200,1600 "$@"; }
for page in rules/image_load_win_invalid_code_signature.html techniques/T1036.001.html index.html; do
  for theme in light dark; do
    flag=(); [ $theme = dark ] && flag=(--force-dark-mode)
    png="$shots/pages-$(basename "$page" .html)-$theme.png"
    rm -f "$png"
    log=$(chrome "${flag[@]}" --screenshot="$png" "file://$site/$page" 2>&1 >/dev/null)
    if grep -q "CONSOLE" <<<"$log"; then
      echo "pages_browser: $page ($theme) logs to the console:"; grep "CONSOLE" <<<"$log"; fail=1
    fi
    if [ ! -s "$png" ] || [ "$(stat -c %s "$png")" -lt 20000 ]; then
      echo "pages_browser: no screenshot of $page ($theme)"; fail=1
    fi
  done
done
dom=$(chrome --dump-dom "file://$site/index.html?q=SignatureStatus" 2>/dev/null)
results=$(grep -o '<ul id="results"[^>]*>.*</ul>' <<<"$dom" | head -1)
if ! grep -q 'href="rules/image_load_win_invalid_code_signature.html"' <<<"$results"; then
  echo "pages_browser: the search for the field SignatureStatus does not find the target rule: $results"; fail=1
fi
dom=$(chrome --dump-dom "file://$site/index.html?q=no-such-field-anywhere" 2>/dev/null)
grep -q '<li>No rule matches.</li>' <<<"$dom" || { echo "pages_browser: a search that finds nothing says nothing"; fail=1; }
[ $fail = 0 ] && echo "pages_browser: tidy clean; 3 pages x 2 themes without console messages; the search finds by field"
exit $fail
