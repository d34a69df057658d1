# Shared helpers for tests/bench/run and tests/bench/smoke.sh (sourced, not executed).
# Builds what is missing, starts a server (forumd, the Node `ws` peer or the Bun peer) pinned to
# a core on a free loopback port, and stops it. Every wait is bounded.

bench_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root_dir="$(cd "$bench_dir/../.." && pwd)"
peer_dir="$bench_dir/peer"

# Cores: the server on SERVER_CPU, the load generator on GEN_CPU (when taskset and two cores
# exist; otherwise unpinned).
SERVER_CPU="${SERVER_CPU:-0}"
GEN_CPU="${GEN_CPU:-1}"
if command -v taskset >/dev/null 2>&1 && [ "$(nproc)" -ge 2 ]; then
  PIN_SERVER=(taskset -c "$SERVER_CPU")
  PIN_GEN=(taskset -c "$GEN_CPU")
else
  PIN_SERVER=()
  PIN_GEN=()
fi

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# build_forumd DIR: a Release build of forumd in DIR (unless $FORUMD names a binary).
build_forumd() {
  if [ -n "${FORUMD:-}" ]; then
    [ -x "$FORUMD" ] || { log "FORUMD=$FORUMD is not executable"; return 1; }
    return 0
  fi
  local dir="$1"
  cmake -S "$root_dir" -B "$dir" -DCMAKE_BUILD_TYPE=Release >/dev/null || return 1
  cmake --build "$dir" -j "$(nproc)" --target forumd >/dev/null || return 1
  FORUMD="$dir/forumd"
}

# build_loadgen DIR: the C load generator as DIR/loadgen; sets LOADGEN.
build_loadgen() {
  make -s -C "$bench_dir/loadgen" BUILD="$1" >/dev/null || return 1
  LOADGEN="$1/loadgen"
}

# install_peers: npm ci in tests/bench/peer when node_modules is missing or stale.
install_peers() {
  if [ ! -x "$peer_dir/node_modules/.bin/bun" ] || [ ! -d "$peer_dir/node_modules/ws" ] ||
     [ "$peer_dir/package-lock.json" -nt "$peer_dir/node_modules/.package-lock.json" ]; then
    (cd "$peer_dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) || return 1
  fi
  BUN="$peer_dir/node_modules/.bin/bun"
}

SERVER_PID=""
SERVER_KIND=""
SERVER_PORT=""
SERVER_LOG=""
PRODUCER_KEY=""

# start_server KIND WORKDIR [extra forumd args...]: KIND is forum | node | bun. Sets SERVER_PID,
# SERVER_PORT, PRODUCER_KEY. Returns non-zero if it did not print its listening line in 15 s.
start_server() {
  local kind="$1" work="$2"
  shift 2
  mkdir -p "$work"
  rm -f "$work"/f.db*
  PRODUCER_KEY="bench$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
  SERVER_LOG="$work/$kind.log"
  : >"$SERVER_LOG"
  case "$kind" in
    forum)
      # Every simulated viewer shares 127.0.0.1: the per-address budget is off. A session takes
      # at most 20,000 questions by default, which a storm at 5,000/s reaches in 4 s: the
      # benchmark lifts that cap so that the storms measure the server, not the cap. (A binary
      # from before these flags existed, for before/after runs, has neither.)
      local addr_flag=() help
      help=$("$FORUMD" --help 2>/dev/null)
      grep -q -- --rate-questions-per-address-per-min <<<"$help" &&
        addr_flag+=(--rate-questions-per-address-per-min 0)
      grep -q -- --max-questions-per-session <<<"$help" &&
        addr_flag+=(--max-questions-per-session 1000000)
      "${PIN_SERVER[@]}" "$FORUMD" --port 0 --bind 127.0.0.1 --db "$work/f.db" \
        --producer-key "$PRODUCER_KEY" --no-demo "${addr_flag[@]}" "$@" >"$SERVER_LOG" 2>&1 &
      ;;
    node)
      "${PIN_SERVER[@]}" node "$peer_dir/node-ws.mjs" --port 0 --bind 127.0.0.1 \
        --producer-key "$PRODUCER_KEY" >"$SERVER_LOG" 2>&1 &
      ;;
    bun)
      "${PIN_SERVER[@]}" "$BUN" "$peer_dir/bun-server.mjs" --port 0 --bind 127.0.0.1 \
        --producer-key "$PRODUCER_KEY" >"$SERVER_LOG" 2>&1 &
      ;;
    *) log "unknown server kind $kind"; return 1 ;;
  esac
  SERVER_PID=$!
  SERVER_KIND="$kind"
  SERVER_PORT=""
  local i
  for i in $(seq 150); do
    SERVER_PORT=$(sed -n 's|^listening on http://[^ ]*:\([0-9][0-9]*\).*|\1|p' "$SERVER_LOG" | head -1)
    [ -n "$SERVER_PORT" ] && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
  done
  log "$kind did not start; its output:"
  sed 's/^/    /' "$SERVER_LOG" >&2
  stop_server
  return 1
}

server_alive() { [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; }

# stop_server: forumd gets SIGTERM (its orderly shutdown is part of what is checked) and
# SIGKILL if it still runs 20 s later; the peers are simply killed. Returns forumd's exit status
# (0 = clean).
stop_server() {
  [ -n "$SERVER_PID" ] || return 0
  local pid="$SERVER_PID" rc=0 i limit=200
  SERVER_PID=""
  if [ "$SERVER_KIND" != forum ]; then
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null
  for i in $(seq "$limit"); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "$SERVER_KIND (pid $pid) was still running $((limit / 10)) s after SIGTERM; killing it"
    kill -KILL "$pid" 2>/dev/null
    rc=137
  fi
  wait "$pid" 2>/dev/null || rc=$?
  return $rc
}

# run_loadgen SCENARIO [args...]: the load generator against the running server, pinned.
run_loadgen() {
  local scenario="$1"
  shift
  "${PIN_GEN[@]}" "$LOADGEN" "$scenario" --port "$SERVER_PORT" --producer-key "$PRODUCER_KEY" \
    --server-pid "$SERVER_PID" "$@"
}
