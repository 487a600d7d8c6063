#!/usr/bin/env bash
# What plugins cost a proxied request, in CPU instructions under callgrind (the method
# of recording_cost.sh: stable on a busy machine, unlike requests/s). In one run:
#   none      Portico, a snapshot without plugins
#   local     key-auth + rate-limiting (policy local, `second: 1e9`: never denies)
#   redis     key-auth + rate-limiting policy redis, against a local redis-server on a
#             Unix socket (Redis's own work is not counted, like the upstream's)
#   other     plugins (the same two) on ANOTHER route only; the measured route has none
#   nginx     nginx (one process: `master_process off`), proxying like proxy_load.sh
#   haproxy   HAProxy (`nbthread 1`), when installed
# Portico is a standalone node (`portico gateway`, one tokio worker thread) serving a
# cache-dir snapshot, analytics on with the flush set past the run (as recording_cost.sh).
# Every variant gets the same requests: wrk sends the key in an `apikey` header to all.
#   server/benches/plugin_cost.sh [seconds] [connections]
# Each proxy runs twice, with 2+5 s and 2+[seconds] s of load; the difference of the two
# runs' instructions over the difference of their requests is the cost per request
# (start-up and shutdown drop out). Callgrind counts user-space instructions only (not
# the kernel's work in syscalls).
# PORTICO_BIN=path: measure that binary instead of building the release one.
# PLUGIN_COST_ONLY="none local": measure only those variants.
# PLUGIN_COST_KEEP=dir: keep each run's callgrind.out.<variant>.<seconds> there (for
# callgrind_annotate), with "variant seconds instructions requests" lines in dir/runs.
set -euo pipefail
cd "$(dirname "$0")/../.."
dur="${1:-20}"
conns="${2:-4}"
# shellcheck source=server/benches/load_common.sh
. server/benches/load_common.sh
need_tools wrk nginx valgrind redis-server
portico_bin

base=$((20000 + RANDOM % 20000))
up_port=$base

start_upstream "$up_port"
wait_up "http://127.0.0.1:$up_port/"

# Redis on a Unix socket in the scratch folder (no TCP port, nothing saved)
redis-server --port 0 --unixsocket "$work/redis.sock" --unixsocketperm 700 \
  --save "" --appendonly no --dir "$work" >"$work/redis.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do
  [ -S "$work/redis.sock" ] && break
  sleep 0.1
done
redis-cli -s "$work/redis.sock" ping >/dev/null

key="bench-key-0123456789"
key_sha=$(printf '%s' "$key" | sha256sum | cut -d' ' -f1)
consumers=',"consumers":[{"id":"00000000-0000-0000-0000-00000000c001","username":"bench",
  "custom_id":null,"keys":[{"id":"00000000-0000-0000-0000-00000000c002",
  "key_sha256":"'"$key_sha"'","expires_at":null}],"acl_groups":[]}]'
# key-auth + rate-limiting, the rate limit's config being $1, on route $2 (null: the group)
plugins() {
  local scope='{}'
  if [ "$2" != null ]; then scope='{"route_id":"'"$2"'"}'; fi
  echo ',"plugins":[
  {"id":"00000000-0000-0000-0000-00000000a001","name":"key-auth","enabled":true,
   "protocols":["http","https"],"scope":'"$scope"',"config":{"key_names":["apikey"]}},
  {"id":"00000000-0000-0000-0000-00000000a002","name":"rate-limiting","enabled":true,
   "protocols":["http","https"],"scope":'"$scope"',"config":'"$1"'}]'"$consumers"
}
rl_local='{"second":1e9,"policy":"local"}'
rl_redis='{"second":1e9,"policy":"redis","redis":{"host":"'"$work/redis.sock"'","timeout":2000}}'
# a second service with its own route, /other (variant `other` puts the plugins on it)
other=',{"version_id":"v2","package_id":"p2","package_key":"other","package_name":"other",
   "version_name":"v1",
   "upstream":{"protocol":"http","host":"127.0.0.1","port":'"$up_port"',"path":null,"retries":5,
     "connect_timeout_ms":60000,"read_timeout_ms":60000,"write_timeout_ms":60000},
   "routes":[{"id":"r2","paths":["/other"],"strip_path":false}]}'

# $1 variant -> its snapshot's extra services and top-level members
snapshot_of() {
  case "$1" in
    none) write_snapshot "$2" "$up_port" "$other" ;;
    local) write_snapshot "$2" "$up_port" "$other" "$(plugins "$rl_local" null)" ;;
    redis) write_snapshot "$2" "$up_port" "$other" "$(plugins "$rl_redis" null)" ;;
    other) write_snapshot "$2" "$up_port" "$other" "$(plugins "$rl_local" r2)" ;;
  esac
}

code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }

# Checks that variant $1 on 127.0.0.1:$2 runs the plugins where it should.
check_plugins() {
  local url="http://127.0.0.1:$2"
  case "$1" in
    local | redis)
      [ "$(code "$url/")" = 401 ] || { echo "$1: / without a key is not 401" >&2; exit 1; }
      curl -s -D - -o /dev/null -H "apikey: $key" "$url/" | grep -qi '^x-ratelimit-limit-second' ||
        { echo "$1: no X-RateLimit header" >&2; exit 1; }
      ;;
    other)
      [ "$(code "$url/other")" = 401 ] || { echo "other: /other without a key is not 401" >&2; exit 1; }
      [ "$(code "$url/")" = 200 ] || { echo "other: / without a key is not 200" >&2; exit 1; }
      ;;
    *)
      [ "$(code "$url/")" = 200 ] || { echo "$1: / without a key is not 200" >&2; exit 1; }
      ;;
  esac
}

# $1 variant, $2 port offset, $3 seconds of load -> "instructions requests" of the whole
# run (start-up, a 2 s warm-up, the load, shutdown)
run_proxy() {
  local v="$1" port=$((base + $2)) status=$((base + $2 + 1)) dir="$work/$1-$3"
  mkdir -p "$dir"
  local cg=(valgrind --tool=callgrind --callgrind-out-file="$dir/callgrind.out")
  case "$v" in
    nginx)
      nginx_conf "nginx-$3" "$(nginx_proxy_servers "$port" "$up_port")" "master_process off;"
      "${cg[@]}" "$NGINX" -p "$work/nginx-$3" -c "$work/nginx-$3/nginx.conf" \
        -e "$work/nginx-$3/logs/error.log" >"$dir/log" 2>&1 &
      ;;
    haproxy)
      cat >"$dir/haproxy.cfg" <<EOF
global
  nbthread 1
  maxconn 4096
defaults
  mode http
  option forwardfor
  http-reuse always
  timeout connect 60s
  timeout client 75s
  timeout server 60s
frontend bench
  bind 127.0.0.1:$port
  default_backend upstream
backend upstream
  server up 127.0.0.1:$up_port
EOF
      "${cg[@]}" haproxy -db -f "$dir/haproxy.cfg" >"$dir/log" 2>&1 &
      ;;
    *)
      snapshot_of "$v" "$dir/cache"
      TOKIO_WORKER_THREADS=1 RUST_LOG=error "${cg[@]}" \
        "$PORTICO" gateway --analytics on --analytics-flush-ms 600000 \
        --control-plane "http://127.0.0.1:$((base + 99))" --token bench \
        --listen "127.0.0.1:$port" --status-listen "127.0.0.1:$status" \
        --cache-dir "$dir/cache" >"$dir/log" 2>&1 &
      ;;
  esac
  local pid=$!
  pids+=("$pid")
  wait_up "http://127.0.0.1:$port/" -H "apikey: $key"
  check_plugins "$v" "$port"
  local out reqs warm
  warm=$(wrk -t1 -c"$conns" -d2s -H "apikey: $key" "http://127.0.0.1:$port/" | awk '/requests in/ {print $1}')
  out=$(wrk -t1 -c"$conns" -d"$3s" -H "apikey: $key" "http://127.0.0.1:$port/")
  if echo "$out" | grep -q "Non-2xx"; then
    echo "$out" >&2
    echo "non-2xx answers from $v" >&2
    exit 1
  fi
  reqs=$(echo "$out" | awk '/requests in/ {print $1}')
  if [ "$v" = haproxy ]; then kill -USR1 "$pid"; else kill -INT "$pid"; fi
  wait "$pid" 2>/dev/null || true
  local ir
  ir=$(awk '/^(summary|totals):/ {print $2; exit}' "$dir/callgrind.out")
  if [ -n "${PLUGIN_COST_KEEP:-}" ]; then
    mkdir -p "$PLUGIN_COST_KEEP"
    cp "$dir/callgrind.out" "$PLUGIN_COST_KEEP/callgrind.out.$v.$3"
    echo "$v $3 $ir $((reqs + warm))" >>"$PLUGIN_COST_KEEP/runs"
  fi
  # the curl requests of wait_up and check_plugins that reached the proxy: the same in
  # both runs, so they drop out of the difference
  echo "$ir $((reqs + warm))"
}

variants=(none local redis other nginx)
if command -v haproxy >/dev/null; then variants+=(haproxy); fi
if [ -n "${PLUGIN_COST_ONLY:-}" ]; then read -r -a variants <<<"$PLUGIN_COST_ONLY"; fi
echo "callgrind, one worker thread / process, wrk -t1 -c$conns -H 'apikey: …'; each proxy run for 2+5 s and 2+${dur} s of load"
declare -A per
off=10
for v in "${variants[@]}"; do
  read -r a an <<<"$(run_proxy "$v" "$off" 5)"
  read -r b bn <<<"$(run_proxy "$v" "$off" "$dur")"
  per[$v]=$(awk -v a="$a" -v an="$an" -v b="$b" -v bn="$bn" 'BEGIN { printf "%.0f", (b - a) / (bn - an) }')
  printf '%-8s %8d more requests, %8d instructions per request\n' "$v" $((bn - an)) "${per[$v]}"
  off=$((off + 10))
done
# (the counters themselves expire with their 1 s window: count the script calls)
if [ -n "${per[redis]:-}" ] &&
  ! grep -q '^cmdstat_evalsha:calls=[1-9]' <<<"$(redis-cli -s "$work/redis.sock" info commandstats)"; then
  echo "redis ran no EVALSHA: the redis variant did not use it" >&2
  exit 1
fi
# $1 label, $2 $3 variants: how much more $2 costs than $3 per request
pct() {
  if [ -n "${per[$2]:-}" ] && [ -n "${per[$3]:-}" ]; then
    awk -v l="$1" -v x="${per[$2]}" -v y="${per[$3]}" \
      'BEGIN { printf "%-48s %+.1f%% (%+d instructions)\n", l, (x - y) / y * 100, x - y }'
  fi
}
pct "key-auth + rate-limiting local over none:" local none
pct "key-auth + rate-limiting redis over none:" redis none
pct "plugins on another route only over none:" other none
pct "portico without plugins over nginx:" none nginx
pct "portico without plugins over haproxy:" none haproxy
