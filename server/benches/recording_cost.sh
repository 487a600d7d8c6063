#!/usr/bin/env bash
# What the analytics recorder costs a proxied request, in CPU instructions: the same
# standalone Portico node (one tokio worker thread) proxying GET / to an nginx upstream,
# once with `--analytics on` and once with `--analytics off`, each under callgrind.
# Instruction counts do not depend on what else the machine is doing, unlike the
# requests/s of `proxy_load.sh`, so this figure is stable on a busy 2-core machine.
#   server/benches/recording_cost.sh [seconds] [connections]
# Each node runs twice, with a short and a long load; the difference of the two runs'
# instructions over the difference of their requests is the cost per request (start-up
# and shutdown drop out). The flush interval is set past the run
# (`--analytics-flush-ms 600000`): under callgrind a node serves ~100× fewer requests
# per second, so a 5-second seal would be charged to ~100× fewer requests than in real
# use; sealing costs one pass over the (minute, route, status) cells per flush,
# whatever the request count.
# PORTICO_BIN=path: measure that binary instead of building the release one.
set -euo pipefail
cd "$(dirname "$0")/../.."
dur="${1:-20}"
conns="${2:-4}"
# shellcheck source=server/benches/load_common.sh
. server/benches/load_common.sh
need_tools wrk nginx valgrind
portico_bin

base=$((20000 + RANDOM % 20000))
up_port=$base

start_upstream "$up_port"
wait_up "http://127.0.0.1:$up_port/"

# $1 on|off, $2 port offset, $3 seconds of load -> "instructions requests" of the whole
# run (start-up, a 2 s warm-up, the load, shutdown)
run_node() {
  local mode="$1" port=$((base + $2)) status=$((base + $2 + 1)) dir="$work/node-$1-$3"
  write_snapshot "$dir/cache" "$up_port"
  TOKIO_WORKER_THREADS=1 RUST_LOG=error valgrind --tool=callgrind \
    --callgrind-out-file="$dir/callgrind.out" \
    "$PORTICO" gateway --analytics "$mode" --analytics-flush-ms 600000 \
    --control-plane "http://127.0.0.1:$((base + 9))" --token bench \
    --listen "127.0.0.1:$port" --status-listen "127.0.0.1:$status" \
    --cache-dir "$dir/cache" >"$dir/log" 2>&1 &
  local pid=$!
  pids+=("$pid")
  wait_up "http://127.0.0.1:$port/"
  local out reqs warm
  warm=$(wrk -t1 -c"$conns" -d2s "http://127.0.0.1:$port/" | awk '/requests in/ {print $1}')
  out=$(wrk -t1 -c"$conns" -d"$3s" "http://127.0.0.1:$port/")
  if echo "$out" | grep -q "Non-2xx"; then
    echo "$out" >&2
    echo "non-2xx answers from the $mode node" >&2
    exit 1
  fi
  reqs=$(echo "$out" | awk '/requests in/ {print $1}')
  kill -INT "$pid"
  wait "$pid" 2>/dev/null || true
  local ir
  ir=$(awk '/^(summary|totals):/ {print $2; exit}' "$dir/callgrind.out")
  echo "$ir $((reqs + warm + 1))"
}

echo "callgrind, one worker thread, wrk -t1 -c$conns; each node run for 2+5 s and 2+${dur} s of load"
read -r on_a on_an <<<"$(run_node on 1 5)"
read -r on_b on_bn <<<"$(run_node on 1 "$dur")"
read -r off_a off_an <<<"$(run_node off 3 5)"
read -r off_b off_bn <<<"$(run_node off 3 "$dur")"
# per request: the difference of the long and the short run (start-up and shutdown,
# the same in both, drop out)
awk -v a="$on_a" -v an="$on_an" -v b="$on_b" -v bn="$on_bn" \
    -v c="$off_a" -v cn="$off_an" -v d="$off_b" -v dn="$off_bn" 'BEGIN {
  on = (b - a) / (bn - an); off = (d - c) / (dn - cn)
  printf "analytics on:  %d more requests, %.0f instructions per request\n", bn - an, on
  printf "analytics off: %d more requests, %.0f instructions per request\n", dn - cn, off
  printf "analytics recording: %+.1f%% instructions per request (%+.0f)\n", (on - off) / off * 100, on - off
}'
