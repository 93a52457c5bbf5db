#!/usr/bin/env bash
# deps.sh - install the Debian packages sigmacc needs, if any are missing.
# Idempotent; uses sudo only when not root. Nothing else is downloaded.
set -euo pipefail
pkgs=(gcc clang clang-format make cmake pkg-config libyaml-dev libcmocka-dev libpcre2-dev zlib1g-dev libevtx-dev libbfio-dev tidy chromium)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "deps: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
