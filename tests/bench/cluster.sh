#!/usr/bin/env bash
# Cluster benchmark (docs/cluster.md): a redis-server and NODES forumd nodes on this machine, one
# session, VIEWERS viewers spread evenly over the nodes, a moderator changing what is on air /
# the panel RATES times a second through one node. Prints the load generator's summary (latency
# from the moderator's write to each viewer's read, deliveries/s, CPU and RSS summed over the
# nodes) and the nodes' cluster figures, and appends the JSON record to
# tests/bench/results/cluster.jsonl.
#   bash tests/bench/cluster.sh                 3 nodes, 45,000 viewers, R = 1 and 5 (~2 min)
#   VIEWERS=600 DURATION=2 bash tests/bench/cluster.sh   smoke size (seconds)
# Knobs: NODES (3), VIEWERS (45000), RATES (1,5), DURATION (5), FORUMD (a given binary), PIN=1
# (nodes on core 0, the load generator on core 1; default: all share both cores), KEEP=1 (keep
# the nodes' logs), STRICT=1 (fail on any late or lost change: the smoke run), LEASE_MS (10000:
# all processes share two cores here, and an overloaded node's loop can stall past a short
# lease, which would move the leadership in the middle of the measurement).
# Every process started here is stopped on exit; the load generator has its own hard alarm.
set -uo pipefail
source "$(dirname "$0")/lib.sh"

NODES="${NODES:-3}"
VIEWERS="${VIEWERS:-45000}"
RATES="${RATES:-1,5}"
DURATION="${DURATION:-5}"
command -v redis-server >/dev/null || { echo "cluster bench: redis-server is not installed (scripts/install-deps.sh --test)"; exit 1; }
build_forumd "$root_dir/build-bench" || { echo "cluster bench: building forumd failed"; exit 1; }
build_loadgen "$root_dir/build-bench" || { echo "cluster bench: building the load generator failed"; exit 1; }

work="$(mktemp -d /tmp/forum-bench-cluster.XXXXXX)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
  sleep 1
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
  [ -n "${KEEP:-}" ] && echo "kept $work" || rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

rport=$(free_port)
redis-server --port "$rport" --bind 127.0.0.1 --dir "$work" --appendonly yes --appendfsync always \
  --save '' --daemonize no >"$work/redis.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do redis-cli -p "$rport" ping >/dev/null 2>&1 && break; sleep 0.1; done
redis-cli -p "$rport" ping >/dev/null || { echo "cluster bench: redis-server did not start"; cat "$work/redis.log"; exit 1; }

node_pin=(); gen_pin=()
if [ -n "${PIN:-}" ]; then node_pin=("${PIN_SERVER[@]}"); gen_pin=("${PIN_GEN[@]}"); fi
key="bench$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
ports=()
node_pids=()
per_node=$(( (VIEWERS + NODES - 1) / NODES + 200 ))
for i in $(seq 1 "$NODES"); do
  port=$(free_port)
  # PIN=1: every node on the server core (one core's worth of CPU for the whole cluster);
  # by default the nodes and the load generator share both cores
  "${node_pin[@]}" "$FORUMD" --port "$port" --bind 127.0.0.1 --db "$work/n$i.db" \
    --producer-key "$key" --cluster "redis://127.0.0.1:$rport" --node "n$i" \
    --max-connections "$per_node" --lease-ms "${LEASE_MS:-10000}" >"$work/n$i.log" 2>&1 &
  pids+=($!)
  node_pids+=($!)
  ports+=("$port")
  for _ in $(seq 150); do grep -q "listening on" "$work/n$i.log" && break; sleep 0.1; done
  grep -q "listening on" "$work/n$i.log" || { echo "cluster bench: node n$i did not start"; cat "$work/n$i.log"; exit 1; }
done
for _ in $(seq 100); do
  leader=$(redis-cli -p "$rport" get forum:lease)
  [ -n "$leader" ] && break
  sleep 0.1
done
log "redis on $rport, nodes on ${ports[*]}, leader $leader, $VIEWERS viewers"

vports=$(IFS=,; echo "${ports[*]}")
spids=$(IFS=,; echo "${node_pids[*]}")
mkdir -p "$bench_dir/results"
"${gen_pin[@]}" "$LOADGEN" fanout --port "${ports[$((NODES - 1))]}" --viewer-ports "$vports" \
  --producer-key "$key" --viewers "$VIEWERS" --rates "$RATES" --duration "$DURATION" \
  --server-pid "$spids" --server-name "forum-cluster-$NODES" ${STRICT:+--strict} \
  --json-out "$work/records.json" | tee "$work/loadgen.out" | grep -v '^{'
rc=${PIPESTATUS[0]}
for i in $(seq 1 "$NODES"); do
  m=$(curl -s "http://127.0.0.1:${ports[$((i - 1))]}/metrics")
  echo "  node n$i: $(echo "$m" | grep -E '^forum_cluster_leader' | sed 's/.* //;s/1/leader/;s/0/follower/')," \
    "log position $(echo "$m" | grep -E '^forum_cluster_log_position' | sed 's/.* //')," \
    "lag $(echo "$m" | grep -E '^forum_cluster_lag_events' | sed 's/.* //')," \
    "longest loop stall $(echo "$m" | grep -E '^forum_loop_stall_max_seconds' | sed 's/.* //') s," \
    "leaderships taken $(echo "$m" | grep -E '^forum_cluster_lease_acquired_total' | sed 's/.* //')," \
    "forwarded in/out $(echo "$m" | grep -E 'forum_cluster_forwarded_total\{direction="in"' | sed 's/.* //')/$(echo "$m" | grep -E 'forum_cluster_forwarded_total\{direction="out"' | sed 's/.* //')"
done
if [ "$VIEWERS" -ge 10000 ]; then
  cat "$work/records.json" >>"$bench_dir/results/cluster.jsonl"
fi
for i in $(seq 1 "$NODES"); do
  if ! kill -0 "${node_pids[$((i - 1))]}" 2>/dev/null; then
    echo "cluster bench: node n$i died:"; tail -n 20 "$work/n$i.log"; rc=1
  fi
done
[ $rc -eq 0 ] || echo "cluster bench: FAILED (load generator exit $rc)"
exit $rc
