#!/usr/bin/env bash
# Smoke run of the benchmark (well under a minute), so that the bench never rots: every
# scenario of tests/bench/run at a small size against forumd, then a quick fan-out against the
# Node `ws` and Bun peers. It checks that the load generator, the servers and the protocol work
# (every change reaches every viewer, stored votes match acknowledged ones, a reconnect storm
# loses nothing, forumd exits cleanly) and that the similar-question benchmark runs; it never
# judges performance figures.
# Exits non-zero if a load generator run or a server fails.
#   bash tests/bench/smoke.sh        (FORUMD=path/to/forumd to use a given binary)
set -uo pipefail
source "$(dirname "$0")/lib.sh"

started=$SECONDS
if [ -z "${FORUMD:-}" ] && [ -x "$root_dir/build/forumd" ]; then
  FORUMD="$root_dir/build/forumd"
fi
build_forumd "$root_dir/build-bench" || { echo "smoke: building forumd failed"; exit 1; }
build_loadgen "$root_dir/build/bench" || { echo "smoke: building the load generator failed"; exit 1; }
work="$(mktemp -d /tmp/forum-bench-smoke.XXXXXX)"
trap 'stop_server >/dev/null 2>&1; rm -rf "$work"' EXIT

failed=0
# check NAME CMD...: one load generator run; its summary lines are shown.
check() {
  local name="$1"
  shift
  if "$@" >"$work/$name.out" 2>"$work/$name.err"; then
    grep -v '^{' "$work/$name.out" | sed "s/^/  /"
    grep -q '^{' "$work/$name.out" || { echo "smoke: $name printed no JSON record"; failed=1; }
  else
    echo "smoke: $name FAILED (load generator exit $?)"
    sed 's/^/    /' "$work/$name.out" "$work/$name.err" | tail -n 30
    failed=1
  fi
  if ! server_alive; then
    echo "smoke: the server died during $name; its output:"
    tail -n 30 "$SERVER_LOG" | sed 's/^/    /'
    failed=1
  fi
}

echo "smoke: similar-question index (tests/bench/similar.sh --quick)"
if ! bash "$bench_dir/similar.sh" --quick 2>&1 | sed 's/^/  /'; then
  echo "smoke: similar FAILED"
  failed=1
fi

echo "smoke: forumd ($FORUMD)"
if start_server forum "$work/forum"; then
  check fanout run_loadgen fanout --viewers 200 --procs 2 --rates 5,50 --duration 1 \
    --drain 1.5 --settle 0.3 --strict --timeout 40
  check submit run_loadgen submit --viewers 200 --submitters 50 --storm-sessions 0 \
    --phases storm,paced:100 --duration 1 --drain 1 --settle 0.3 --strict --timeout 40
  check vote run_loadgen vote --viewers 200 --questions 10 --duration 1.5 --drain 1.5 \
    --settle 0.3 --strict --timeout 40
  check reconnect run_loadgen reconnect --viewers 200 --rates 5 --offline 0.5 --drain 1 \
    --strict --timeout 40
  check join run_loadgen join --viewers 200 --questions 400 --strict --timeout 60
  if ! stop_server; then
    echo "smoke: forumd did not exit cleanly on SIGTERM; its output:"
    tail -n 30 "$SERVER_LOG" | sed 's/^/    /'
    failed=1
  fi
else
  failed=1
fi

if install_peers; then
  for kind in node bun; do
    echo "smoke: $kind peer"
    if start_server "$kind" "$work/$kind"; then
      check "fanout-$kind" run_loadgen fanout --server-name "$kind" --viewers 200 --rates 50 \
        --duration 1 --drain 1.5 --settle 0.3 --strict --timeout 40
      stop_server || true
    else
      failed=1
    fi
  done
else
  echo "smoke: npm ci in tests/bench/peer failed"
  failed=1
fi

echo "smoke: cluster (3 nodes and a redis-server, 600 viewers)"
if ! VIEWERS=600 RATES=5 DURATION=1 STRICT=1 LEASE_MS=3000 FORUMD="$FORUMD" bash "$bench_dir/cluster.sh" 2>&1 | sed 's/^/  /'; then
  echo "smoke: cluster FAILED"
  failed=1
fi

echo "smoke: done in $((SECONDS - started)) s"
if [ "$failed" -ne 0 ]; then
  echo "smoke: FAILED"
  exit 1
fi
echo "smoke: ok"
