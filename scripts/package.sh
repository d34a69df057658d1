#!/usr/bin/env bash
# Builds the Debian package build/forum_VERSION_ARCH.deb (CPack DEB from CMakeLists.txt's
# install rules; Depends from dpkg-shlibdeps plus libwebsockets-evlib-uv, which lws loads at
# run time). Install it with `apt-get install ./build/forum_*.deb`, then
# `systemctl enable --now forumd` (docs/operations.md).
set -euo pipefail
cd "$(dirname "$0")/.."
# the package installs under /usr (config in /etc): configure build/ for that prefix
bash scripts/build.sh -DCMAKE_INSTALL_PREFIX=/usr
rm -f build/forum_*.deb
(cd build && cpack -G DEB >/dev/null)
ls build/forum_*.deb
