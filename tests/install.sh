#!/usr/bin/env bash
# install.sh BUILD_DIR CC - install into a temporary DESTDIR and check what a
# packager and a library user get: the binary, the header, the library, the
# pkg-config file, the man page, the completions and the docs; then build tests/install_example.c against
# the installed tree with pkg-config alone and compare its SPL with the CLI's.
set -euo pipefail
build=$1
cc=${2:-cc}
src=$(cd "$(dirname "$0")/.." && pwd)
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT
DESTDIR=$dest cmake --install "$build" --prefix /usr/local >/dev/null
root=$dest/usr/local
fail() { echo "install: $*" >&2; exit 1; }
[ -x "$root/bin/sigmacc" ] || fail "no bin/sigmacc"
[ -f "$root/include/sigmacc.h" ] && [ -f "$root/include/sigmacc_diag.def" ] || fail "no header"
lib=$(find "$root" -name libsigmacc.a) && [ -n "$lib" ] || fail "no libsigmacc.a"
pc=$(find "$root" -name sigmacc.pc) && [ -n "$pc" ] || fail "no sigmacc.pc"
[ -f "$root/share/man/man1/sigmacc.1" ] || fail "no man page"
grep -q "sigmacc $("$root/bin/sigmacc" --version | cut -d' ' -f2)" "$root/share/man/man1/sigmacc.1" ||
  fail "the man page does not carry the version"
[ -f "$root/share/bash-completion/completions/sigmacc" ] || fail "no bash completion"
[ -f "$root/share/zsh/site-functions/_sigmacc" ] || fail "no zsh completion"
for doc in README.md CHANGELOG.md LICENSE; do
  [ -f "$root/share/doc/sigmacc/$doc" ] || fail "no share/doc/sigmacc/$doc"
done
version=$("$root/bin/sigmacc" --version)
[ "$version" = "sigmacc $(PKG_CONFIG_PATH=$(dirname "$pc") pkg-config --modversion sigmacc)" ] ||
  fail "--version '$version' differs from the .pc version"
flags=$(PKG_CONFIG_PATH=$(dirname "$pc") pkg-config --cflags --libs sigmacc) # relocatable: no sysroot needed
# shellcheck disable=SC2086
"$cc" -std=c11 -Wall -Wextra -Werror -o "$dest/example" "$src/tests/install_example.c" $flags
rule=$src/sigma-rules/windows/process_creation/proc_creation_win_encoded_powershell.yml
want=$("$root/bin/sigmacc" convert -t splunk "$rule")
got=$("$dest/example" "$rule")
[ -n "$got" ] && [ "$got" = "$want" ] || fail "the example's SPL differs from the CLI's: '$got' vs '$want'"
echo "install: bin, header, library, pkg-config, man page, completions, docs; example converts as the CLI does"
