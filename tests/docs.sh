#!/usr/bin/env bash
# docs.sh SIGMACC - the man page and the shell completions agree with --help:
# every long option a command's --help names is in that command's section of
# docs/sigmacc.1.in and in both completions, and the man page names no option
# --help does not; every command is in the man page; the completions parse.
set -uo pipefail
bin=$1
cd "$(dirname "$0")/.." || exit 2
man=docs/sigmacc.1.in bash_c=docs/completion/sigmacc.bash zsh_c=docs/completion/_sigmacc
rc=0
fail() { echo "docs: $*"; rc=1; }
longs() { grep -o -- '--[a-z][a-z-]*' | sort -u; }
# the man page's section of a command, its hyphens unescaped
section() { sed -n "/^\.SS $1\$/,/^\.S[SH] /p" "$man" | sed 's/\\-/-/g'; }
for cmd in convert check eval dump metrics logons search test pages; do
  help=$("$bin" "$cmd" --help 2>&1) || fail "'$cmd --help' exits non-zero"
  want=$(printf '%s\n' "$help" | longs | grep -vx -- '--help')
  have=$(section "$cmd" | longs)
  [ -n "$have" ] || fail "no '.SS $cmd' section in $man"
  extra=$(comm -13 <(printf '%s\n' "$want") <(printf '%s\n' "$have"))
  [ -z "$extra" ] || fail "$man names options '$cmd --help' does not: $extra"
  # here-strings, not pipes: grep -q stops reading early, and under pipefail the
  # writer's SIGPIPE would fail the check at random
  bash_opts=$(sed -n "/^  $cmd)/,/;;/p" "$bash_c")
  zsh_opts=$(sed -n "/^  $cmd)/,/;;/p" "$zsh_c")
  for opt in $want; do
    grep -qx -- "$opt" <<<"$have" || fail "$man lacks $cmd $opt"
    grep -q -- "$opt\b" <<<"$bash_opts" || fail "$bash_c lacks $cmd $opt"
    grep -q -- "$opt\b" <<<"$zsh_opts" || fail "$zsh_c lacks $cmd $opt"
  done
done
for cmd in $("$bin" --help | sed -n 's/^  \([a-z][a-z]*\) .*/\1/p; s/^  \([a-z][a-z]*\)$/\1/p'); do
  grep -q "^\.SS $cmd\$" "$man" || fail "$man has no section for '$cmd'"
done
bash -n "$bash_c" || fail "$bash_c does not parse"
if command -v zsh >/dev/null; then zsh -n "$zsh_c" || fail "$zsh_c does not parse"; fi
[ $rc = 0 ] && echo "docs: man page and completions agree with --help"
exit $rc
