#!/usr/bin/env bash
# Installs every Debian package forum needs to build, run and test, on a fresh Debian 12 as root.
# Idempotent: packages already present are skipped, so a second run costs a few seconds.
set -euo pipefail

build_pkgs=(build-essential cmake pkg-config libuv1-dev libwebsockets-dev libwebsockets-evlib-uv
            libcjson-dev libsqlite3-dev sqlite3 libssl-dev libhiredis-dev libutf8proc-dev libsystemd-dev
            libqrencode-dev zlib1g-dev libcurl4-openssl-dev nodejs npm dpkg-dev file ca-certificates)
test_pkgs=(clang libclang-rt-14-dev python3 chromium fonts-noto-cjk procps psmisc
            redis-server nginx-light openssl iproute2 systemd)

want=("${build_pkgs[@]}")
if [ "${1:-}" = "--test" ]; then want+=("${test_pkgs[@]}"); fi

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node may come from another source (nodesource) that already provides npm.
if command -v node >/dev/null && command -v npm >/dev/null; then
  missing=("${missing[@]/nodejs}"); missing=("${missing[@]/npm}")
fi
clean=(); for p in "${missing[@]}"; do [ -n "$p" ] && clean+=("$p"); done
if [ ${#clean[@]} -gt 0 ]; then
  echo "installing: ${clean[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${clean[@]}" >/dev/null
fi
