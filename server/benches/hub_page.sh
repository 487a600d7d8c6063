#!/usr/bin/env bash
# Median server time of the Service Hub page over a catalog of 1,000 packages with
# 3 versions each, on a release build and a fresh SQLite file. A measurement, not a test.
#   server/benches/hub_page.sh [requests]
set -euo pipefail
cd "$(dirname "$0")/../.."
n="${1:-200}"
target="${CARGO_TARGET_DIR:-target}"
cargo build --release -p server --bin portico
data=$(mktemp -d)
trap 'kill $pid 2>/dev/null || true; rm -rf "$data"' EXIT
"$target/release/portico" seed --data-dir "$data" --packages 1000 --versions 3
# The Service Hub needs a session: an admin made on the console, signed in with curl.
echo "bench password 123" | "$target/release/portico" admin create-user --data-dir "$data" \
  --email bench@example.com --role admin >/dev/null
port=$((20000 + RANDOM % 20000))
"$target/release/portico" serve --data-dir "$data" --listen "127.0.0.1:$port" >/dev/null 2>&1 &
pid=$!
for _ in $(seq 1 50); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
jar="$data/cookies"
curl -s -o /dev/null -c "$jar" -H "origin: http://127.0.0.1:$port" \
  --data-urlencode email=bench@example.com --data-urlencode "password=bench password 123" \
  "http://127.0.0.1:$port/rpc/auth/login"
measure() {
  local path="$1"
  local code
  code=$(curl -s -b "$jar" -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port$path")
  [ "$code" = 200 ] || { echo "GET $path answered $code" >&2; exit 1; }
  for _ in $(seq 1 20); do curl -s -b "$jar" -o /dev/null "http://127.0.0.1:$port$path"; done
  for _ in $(seq 1 "$n"); do
    curl -s -b "$jar" -o /dev/null -w '%{time_total}\n' "http://127.0.0.1:$port$path"
  done | sort -n | awk '{a[NR]=$1} END {printf "median %.1f ms, p90 %.1f ms over %d requests\n", a[int(NR/2)+1]*1000, a[int(NR*0.9)]*1000, NR}'
}
echo "GET /service-hub                      : $(measure /service-hub)"
echo "GET /service-hub?sort=modified&page=20 : $(measure '/service-hub?sort=modified&page=20')"
echo "GET /service-hub?label=team:payments   : $(measure '/service-hub?label=team:payments')"
echo "GET /service-hub?view=list             : $(measure '/service-hub?view=list')"
