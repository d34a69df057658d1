#!/usr/bin/env bash
# The README's test command (and CI's, through .ci/run): installs what is missing, builds a
# normal and an ASan+UBSan build, and runs every suite: unit tests (CTest) in both builds,
# integration tests against both binaries, cluster tests (three nodes and a redis-server of their
# own) against both binaries, browser tests in headless Chromium, the reliability suite (one file
# at a time), the package (built, installed into a throwaway root, its service unit verified), a
# fuzzing smoke run and the benchmark smoke run. Prints one line per suite and a closing summary;
# exits non-zero if any suite failed. Logs: build/test-logs/.
#   scripts/test.sh            everything
#   scripts/test.sh unit integration   only the named suites
# Suites: unit integration cluster browser reliability package fuzz bench. Runs on the Node.js
# Debian 12 ships (18) and later.
set -uo pipefail
cd "$(dirname "$0")/.."
root="$PWD"

bash scripts/install-deps.sh --test || { echo "installing packages failed"; exit 1; }
node_version=$(node --version 2>/dev/null) || { echo "node not found (apt-get install nodejs)"; exit 1; }
node_major=${node_version#v}; node_major=${node_major%%.*}
echo "using Node.js $node_version ($(command -v node)), npm $(npm --version 2>/dev/null)"
if [ "$node_major" -lt 18 ]; then
  echo "the tests need Node.js 18 or later"; exit 1
fi
(cd tests && npm ci --no-audit --no-fund --loglevel=error >/dev/null) || { echo "npm ci failed"; exit 1; }

logs="$root/build/test-logs"
mkdir -p "$logs"
passed=0; failed=0; failed_names=()
selected=("$@")
is_selected() {
  [ ${#selected[@]} -eq 0 ] && return 0
  for s in "${selected[@]}"; do [ "$s" = "$1" ] && return 0; done
  return 1
}

# step NAME COMMAND...: runs the command with its output in $logs/NAME.log and reports.
step() {
  local name="$1"; shift
  local start=$SECONDS
  if "$@" >"$logs/$name.log" 2>&1; then
    passed=$((passed + 1))
    printf '%-28s ok    (%ds)\n' "$name" $((SECONDS - start))
  else
    failed=$((failed + 1)); failed_names+=("$name")
    printf '%-28s FAIL  (%ds) — last lines of %s:\n' "$name" $((SECONDS - start)) "$logs/$name.log"
    tail -n 40 "$logs/$name.log" | sed 's/^/    /'
  fi
}

# one_at_a_time FILE...: node --test on each file in turn (timing-sensitive suites); fails if
# any file failed.
one_at_a_time() {
  local rc=0
  for f in "$@"; do node --test "$f" || rc=1; done
  return $rc
}

# Only the unit suites selected: build the unit tests alone (no forumd, no man page).
only_unit=true
for s in integration cluster browser reliability package fuzz bench; do
  is_selected "$s" && only_unit=false
done
if $only_unit; then
  step build env BUILD_TARGET=unit_tests bash scripts/build.sh
  step build-asan env BUILD_DIR=build-asan BUILD_TYPE=Debug BUILD_TARGET=unit_tests bash scripts/build.sh -DFORUM_SANITIZE=ON
else
  step build bash scripts/build.sh
  step build-asan env BUILD_DIR=build-asan BUILD_TYPE=Debug bash scripts/build.sh -DFORUM_SANITIZE=ON
fi

export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:halt_on_error=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export LSAN_OPTIONS="suppressions=$root/tests/lsan.supp:print_suppressions=0"

if is_selected unit; then
  step unit ctest --test-dir build --output-on-failure
  step unit-asan ctest --test-dir build-asan --output-on-failure
fi
if is_selected integration; then
  step integration env FORUMD="$root/build/forumd" node --test tests/integration/*.test.js
  step integration-asan env FORUMD="$root/build-asan/forumd" FORUM_TEST_SLOW=1 node --test tests/integration/*.test.js
fi
if is_selected cluster && ls tests/cluster/*.test.js >/dev/null 2>&1; then
  step cluster env FORUMD="$root/build/forumd" node --test tests/cluster/*.test.js
  step cluster-asan env FORUMD="$root/build-asan/forumd" node --test tests/cluster/*.test.js
fi
if is_selected browser && [ -d tests/browser ] && ls tests/browser/*.test.js >/dev/null 2>&1; then
  step browser env FORUMD="$root/build/forumd" node --test tests/browser/*.test.js
fi
if is_selected reliability && ls tests/reliability/*.test.js >/dev/null 2>&1; then
  run_reliability() {
    FORUMD="$root/build/forumd" FORUMD_ASAN="$root/build-asan/forumd" one_at_a_time tests/reliability/*.test.js
  }
  step reliability run_reliability
fi
if is_selected package; then
  step package bash tests/package/run.sh
fi
if is_selected fuzz && [ -x tests/fuzz/run.sh ]; then
  step fuzz-smoke env FUZZ_SECONDS="${FUZZ_SECONDS:-15}" bash tests/fuzz/run.sh smoke
fi
if is_selected bench && [ -x tests/bench/smoke.sh ]; then
  step bench-smoke bash tests/bench/smoke.sh
fi

echo
[ $failed -gt 0 ] && echo "failed suites: ${failed_names[*]}"
echo "suites: $passed passed, $failed failed"
[ $failed -eq 0 ]
