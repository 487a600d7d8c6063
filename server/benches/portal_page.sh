#!/usr/bin/env bash
# Server time of the Dev Portal's pages over a catalog of 1,000 published packages with
# 3 versions each (release build, fresh SQLite file). A measurement, not a test.
#   server/benches/portal_page.sh [requests]
set -euo pipefail
cd "$(dirname "$0")/../.."
n="${1:-200}"
target="${CARGO_TARGET_DIR:-target}"
cargo build --release -p server --bin portico
data=$(mktemp -d)
trap 'kill $pid 2>/dev/null || true; rm -rf "$data"' EXIT
"$target/release/portico" seed --data-dir "$data" --packages 1000 --versions 3
port=$((20000 + RANDOM % 20000))
"$target/release/portico" serve --data-dir "$data" --listen "127.0.0.1:$port" >/dev/null 2>&1 &
pid=$!
for _ in $(seq 1 50); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
measure() {
  local path="$1"
  local code
  code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port$path")
  [ "$code" = 200 ] || { echo "GET $path answered $code" >&2; exit 1; }
  for _ in $(seq 1 20); do curl -s -o /dev/null "http://127.0.0.1:$port$path"; done
  for _ in $(seq 1 "$n"); do
    curl -s -o /dev/null -w '%{time_total}\n' "http://127.0.0.1:$port$path"
  done | sort -n | awk '{a[NR]=$1} END {printf "median %.1f ms, p90 %.1f ms over %d requests\n", a[int(NR/2)+1]*1000, a[int(NR*0.9)]*1000, NR}'
}
echo "GET /portal (48 cards)               : $(measure /portal)"
echo "GET /portal?view=table&page=20       : $(measure '/portal?view=table&page=20')"
echo "GET /portal?q=billing                : $(measure '/portal?q=billing')"
echo "GET /portal?page_size=1000 (all)     : $(measure "/portal?page_size=1000")"
echo "GET /portal/services/orders-service-00000 : $(measure /portal/services/orders-service-00000)"
