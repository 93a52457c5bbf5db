#!/usr/bin/env bash
# eval_html.sh SIGMACC - `eval --html`: the report of tests/eval/timeline.jsonl and the
# correlation sample events (with a hostile event: markup, quotes and controls in its
# values) is one self-contained page: HTML Tidy finds no error or warning, it references
# no external resource and runs no script, every rule link lands on an anchor, each
# hostile value stays text, the page is the same for -j 1 and every core; headless Chromium renders it without a console message in
# the light and the dark theme (screenshots kept in the build folder). Skips (77) when
# chromium or tidy is missing.
set -u
bin=$(realpath "$1")
root=$(cd "$(dirname "$0")/.." && pwd)
command -v chromium >/dev/null && command -v tidy >/dev/null || { echo "eval_html: chromium or tidy missing: skipped"; exit 77; }
shots=${SIGMACC_SHOTS:-$PWD}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$root" || exit 2
sed -n 1p tests/eval/timeline.jsonl |
  sed 's#whoami /all#whoami /all <script>alert(1)</script> \\"q\\" '"'"'s'"'"' \&amp; <b>x</b>#' > "$tmp/hostile.jsonl"
"$bin" eval -r sigma-rules/windows/process_creation -r sigma-rules/windows/builtin/security \
  -p sigma-rules/pipelines/placeholders.yml --html "$tmp/report.html" tests/eval/timeline.jsonl \
  sigma-rules/windows/builtin/security/win_security_failed_logon_burst.events.jsonl "$tmp/hostile.jsonl" \
  > "$tmp/out.jsonl" || exit 1
fail=0
page=$tmp/report.html
"$bin" eval -j 1 -r sigma-rules/windows/process_creation -r sigma-rules/windows/builtin/security \
  -p sigma-rules/pipelines/placeholders.yml --html "$tmp/report1.html" -o /dev/null tests/eval/timeline.jsonl \
  sigma-rules/windows/builtin/security/win_security_failed_logon_burst.events.jsonl "$tmp/hostile.jsonl"
cmp -s "$page" "$tmp/report1.html" || { echo "eval_html: the page differs between -j 1 and the default"; fail=1; }
if ! out=$(tidy -q -e "$page" 2>&1); then echo "eval_html: tidy:"; echo "$out" | head -5; fail=1; fi
if grep -qiE '<script|<link|src=|url\(|@import' "$page"; then echo "eval_html: the page loads or runs something"; fail=1; fi
grep -q '&lt;script&gt;alert(1)&lt;/script&gt; &quot;q&quot; &#39;s&#39; &amp;amp; &lt;b&gt;x&lt;/b&gt;' "$page" ||
  { echo "eval_html: the hostile value is not shown as text"; fail=1; }
for a in $(grep -o 'href="#[^"]*"' "$page" | sed 's/href="#\(.*\)"/\1/' | sort -u); do
  grep -q "id=\"$a\"" "$page" || { echo "eval_html: the link #$a lands nowhere"; fail=1; }
done
matches=$(grep -c '^{"rule":\|^{"correlation":' "$tmp/out.jsonl") # the rules' and the correlations'
grep -q "; $matches match" "$page" || { echo "eval_html: the page does not count the $matches matches"; fail=1; }
corr=$(grep -c '^{"correlation":' "$tmp/out.jsonl")
[ "$corr" -gt 0 ] && [ "$(grep -c 'event_count: group {&quot;IpAddress&quot;' "$page")" -ge "$corr" ] ||
  { echo "eval_html: the $corr correlation results are not rows of the page"; fail=1; }
chrome() { chromium --headless --no-sandbox --disable-gpu --enable-logging=stderr --v=0 --window-size=1200,1600 "$@"; }
for theme in light dark; do
  flag=(); [ $theme = dark ] && flag=(--force-dark-mode)
  png="$shots/eval-report-$theme.png"
  rm -f "$png"
  log=$(chrome "${flag[@]}" --screenshot="$png" "file://$page" 2>&1 >/dev/null)
  if grep -q "CONSOLE" <<<"$log"; then echo "eval_html: console messages ($theme):"; grep "CONSOLE" <<<"$log"; fail=1; fi
  if [ ! -s "$png" ] || [ "$(stat -c %s "$png")" -lt 20000 ]; then echo "eval_html: no screenshot ($theme)"; fail=1; fi
done
[ $fail = 0 ] && echo "eval_html: tidy clean, self-contained, $matches matches, links land, hostile values stay text; rendered in 2 themes"
exit $fail
