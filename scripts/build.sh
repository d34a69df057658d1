#!/usr/bin/env bash
# Builds forumd and the unit tests with CMake into build/ (or $BUILD_DIR), after installing
# the build packages if any are missing and copying the pinned browser libraries into
# web-client/vendor/ (scripts/web-vendor.sh). Extra arguments go to cmake's configure step, e.g.
#   BUILD_DIR=build-asan scripts/build.sh -DFORUM_SANITIZE=ON
# BUILD_TARGET=unit_tests builds only that target (scripts/test.sh unit).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/web-vendor.sh
build_dir="${BUILD_DIR:-build}"
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}" "$@" >/dev/null
cmake --build "$build_dir" -j "$(nproc)" ${BUILD_TARGET:+--target "$BUILD_TARGET"}
