#!/usr/bin/env bash
# Requests/s and p99 latency of Portico's data plane on ONE tokio worker thread against
# nginx with ONE worker process, both proxying GET / to the same upstream (an nginx
# answering a fixed 13-byte body) over keep-alive upstream connections. wrk drives both
# the same way. A measurement, not a test; only 127.0.0.1 is used.
#   server/benches/proxy_load.sh [seconds] [connections] [rounds]
# On a 2-core machine the proxy under test runs on CPU 0, wrk and the upstream on CPU 1.
# Each line also gives how busy CPU 0 (the proxy) and CPU 1 (wrk and the upstream) were:
# when the load CPU is near 100%, the figure is the load side's limit, not the proxy's.
# PORTICO_BIN=path: measure that binary instead of building the release one.
# A second Portico node with `--analytics off` runs beside the first, so each round also
# says what the analytics recorder costs (CPU per request: the proxy's throughput when
# the proxy, not the load side, is the limit).
set -euo pipefail
cd "$(dirname "$0")/../.."
dur="${1:-10}"
conns="${2:-50}"
rounds="${3:-1}"
# shellcheck source=server/benches/load_common.sh
. server/benches/load_common.sh
need_tools wrk nginx
portico_bin

ncpu=$(nproc)
if [ "$ncpu" -ge 2 ] && command -v taskset >/dev/null; then
  on_proxy=(taskset -c 0)
  on_load=(taskset -c 1)
else
  on_proxy=()
  on_load=()
fi

base=$((20000 + RANDOM % 20000))
up_port=$base
nginx_port=$((base + 1))
portico_port=$((base + 2))
status_port=$((base + 3))
unused_port=$((base + 4))
off_port=$((base + 5))
off_status_port=$((base + 6))

cpu_load=0
cpu_proxy=0
if [ "${#on_load[@]}" -gt 0 ]; then cpu_load=1; fi

# the upstream
start_upstream "$up_port" "$cpu_load"

# the baseline: nginx proxying with a keep-alive pool (and the usual forwarding headers)
start_nginx proxy "$(nginx_proxy_servers "$nginx_port" "$up_port")" "$cpu_proxy"
nginx_master=${pids[-1]}

# Portico: a standalone node serving a cached snapshot (the control plane address is
# unused: the node keeps serving the cache and retries in the background)
write_snapshot "$work/cache" "$up_port"
TOKIO_WORKER_THREADS=1 RUST_LOG=error "${on_proxy[@]}" "$PORTICO" gateway \
  --control-plane "http://127.0.0.1:$unused_port" --token bench \
  --listen "127.0.0.1:$portico_port" --status-listen "127.0.0.1:$status_port" \
  --cache-dir "$work/cache" >"$work/portico.log" 2>&1 &
pids+=($!)
portico_pid=$!
# the same node with the analytics recorder off: what recording costs
write_snapshot "$work/cache-off" "$up_port"
TOKIO_WORKER_THREADS=1 RUST_LOG=error "${on_proxy[@]}" "$PORTICO" gateway --analytics off \
  --control-plane "http://127.0.0.1:$unused_port" --token bench \
  --listen "127.0.0.1:$off_port" --status-listen "127.0.0.1:$off_status_port" \
  --cache-dir "$work/cache-off" >"$work/portico-off.log" 2>&1 &
pids+=($!)
portico_off_pid=$!

wait_up "http://127.0.0.1:$up_port/"
wait_up "http://127.0.0.1:$nginx_port/"
wait_up "http://127.0.0.1:$portico_port/"
wait_up "http://127.0.0.1:$off_port/"
body_nginx=$(curl -s "http://127.0.0.1:$nginx_port/")
body_portico=$(curl -s "http://127.0.0.1:$portico_port/")
[ "$body_nginx" = "$body_portico" ] || { echo "different answers: '$body_nginx' vs '$body_portico'" >&2; exit 1; }

# "12.34ms" / "850.00us" / "1.02s" -> milliseconds
to_ms() {
  awk -v v="$1" 'BEGIN {
    if (v ~ /us$/) { sub(/us$/, "", v); printf "%.3f", v / 1000 }
    else if (v ~ /ms$/) { sub(/ms$/, "", v); printf "%.3f", v }
    else if (v ~ /s$/) { sub(/s$/, "", v); printf "%.3f", v * 1000 }
    else printf "%s", v }'
}

# "busy total" jiffies of CPU $1 from /proc/stat
cpu_jiffies() {
  awk -v c="cpu$1" '$1 == c { busy = $2 + $3 + $4 + $7 + $8; print busy, busy + $5 + $6 }' /proc/stat
}
# busy % of CPU $1 between two cpu_jiffies outputs
busy_pct() {
  awk -v a="$1" -v b="$2" 'BEGIN { split(a, x, " "); split(b, y, " ");
    t = y[2] - x[2]; printf "%.0f", (t > 0 ? 100 * (y[1] - x[1]) / t : 0) }'
}

# CPU time (user + system, clock ticks) of processes $@ (threads included)
proc_ticks() {
  local t=0 p
  for p in "$@"; do
    # fields after the ")" of the command name: utime is the 12th, stime the 13th
    t=$((t + $(sed 's/.*) //' "/proc/$p/stat" | awk '{print $12 + $13}')))
  done
  echo "$t"
}

# $1 url, $2.. pids of the proxy -> "rps p99_ms p50_ms cpu_proxy% cpu_load% proxy_us_per_request"
measure() {
  local url="$1"
  shift
  "${on_load[@]}" wrk -t1 -c"$conns" -d2s "$url" >/dev/null
  local out c0a c1a c0b c1b ta tb
  c0a=$(cpu_jiffies "$cpu_proxy")
  c1a=$(cpu_jiffies "$cpu_load")
  ta=$(proc_ticks "$@")
  out=$("${on_load[@]}" wrk -t1 -c"$conns" -d"${dur}s" --latency "$url")
  tb=$(proc_ticks "$@")
  c0b=$(cpu_jiffies "$cpu_proxy")
  c1b=$(cpu_jiffies "$cpu_load")
  if echo "$out" | grep -q "Non-2xx"; then
    echo "$out" >&2
    echo "non-2xx answers from $url" >&2
    exit 1
  fi
  local rps p99 p50
  rps=$(echo "$out" | awk '/^Requests\/sec:/ {print $2}')
  p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
  p50=$(echo "$out" | awk '$1 == "50%" {print $2}')
  local reqs us
  reqs=$(echo "$out" | awk '/requests in/ {print $1}')
  us=$(awk -v t=$((tb - ta)) -v hz="$(getconf CLK_TCK)" -v n="$reqs" \
    'BEGIN { printf "%.2f", (n > 0 ? t / hz * 1e6 / n : 0) }')
  echo "$rps $(to_ms "$p99") $(to_ms "$p50") $(busy_pct "$c0a" "$c0b") $(busy_pct "$c1a" "$c1b") $us"
}

echo "wrk -t1 -c$conns -d${dur}s, $rounds round(s); proxy on CPU $cpu_proxy, wrk and upstream on CPU $cpu_load"
# The load side's ceiling: wrk straight to the upstream, both on the load CPU (what a
# proxied request costs that CPU, without the proxy). A proxy measured near it is
# limited by the load side, not by itself.
read -r u_rps _ _ _ u_c1 _ <<<"$(measure "http://127.0.0.1:$up_port/" "$$")"
printf 'load-side ceiling (wrk -> upstream, no proxy): %s requests/s, CPU %s %s%% busy\n' "$u_rps" "$cpu_load" "$u_c1"
# the columns: CPU busy % of the proxy's CPU and of the load CPU (all processes), and
# the proxy process's own CPU time (user + system) per request, which does not depend
# on which side limited the rate
printf '%-8s %-26s %12s %8s %8s %9s %9s %12s\n' round proxy "requests/s" "p50 ms" "p99 ms" "cpu proxy" "cpu load" "proxy us/req"
nginx_worker=$(pgrep -P "$nginx_master" | tr '\n' ' ')
for round in $(seq 1 "$rounds"); do
  # shellcheck disable=SC2086
  read -r n_rps n_p99 n_p50 n_c0 n_c1 n_us <<<"$(measure "http://127.0.0.1:$nginx_port/" $nginx_worker)"
  read -r p_rps p_p99 p_p50 p_c0 p_c1 p_us <<<"$(measure "http://127.0.0.1:$portico_port/" "$portico_pid")"
  printf '%-8s %-26s %12s %8s %8s %8s%% %8s%% %12s\n' "$round" "nginx (1 worker)" "$n_rps" "$n_p50" "$n_p99" "$n_c0" "$n_c1" "$n_us"
  printf '%-8s %-26s %12s %8s %8s %8s%% %8s%% %12s\n' "$round" "portico (1 worker thread)" "$p_rps" "$p_p50" "$p_p99" "$p_c0" "$p_c1" "$p_us"
  awk -v p="$p_rps" -v n="$n_rps" -v pp="$p_p99" -v np="$n_p99" -v pu="$p_us" -v nu="$n_us" \
    'BEGIN { printf "         portico/nginx: %.2fx requests/s, p99 %.3f ms vs %.3f ms (%s), CPU per request %.2fx\n", p / n, pp, np, (pp <= np ? "portico lower or equal" : "portico higher"), (nu > 0 ? pu / nu : 0) }'
  read -r o_rps o_p99 o_p50 o_c0 o_c1 o_us <<<"$(measure "http://127.0.0.1:$off_port/" "$portico_off_pid")"
  printf '%-8s %-26s %12s %8s %8s %8s%% %8s%% %12s\n' "$round" "portico, analytics off" "$o_rps" "$o_p50" "$o_p99" "$o_c0" "$o_c1" "$o_us"
  awk -v on="$p_us" -v off="$o_us" -v ron="$p_rps" -v roff="$o_rps" \
    'BEGIN { printf "         analytics recording: %+.1f%% CPU per request (%+.1f%% requests/s)\n", (off > 0 ? (on - off) / off * 100 : 0), (roff > 0 ? (ron - roff) / roff * 100 : 0) }'
done
curl -s "http://127.0.0.1:$status_port/status" | grep -o '"requests":[0-9]*' | sed 's/^/portico status: /'
