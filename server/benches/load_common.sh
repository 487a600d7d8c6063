# Shared by the data plane load scripts (proxy_load.sh, recording_cost.sh); sourced, not
# run. Only 127.0.0.1 is used.

# Installs the Debian packages of the commands named that are missing.
#   need_tools wrk nginx valgrind
need_tools() {
  local missing=() t
  for t in "$@"; do
    if [ "$t" = nginx ]; then
      command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx)
    else
      command -v "$t" >/dev/null || missing+=("$t")
    fi
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "==> installing ${missing[*]} from Debian"
    apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"
  fi
  NGINX=$(command -v nginx || echo /usr/sbin/nginx)
}

# Sets PORTICO: $PORTICO_BIN, or the release binary (built when needed).
portico_bin() {
  if [ -n "${PORTICO_BIN:-}" ]; then
    PORTICO="$PORTICO_BIN"
  else
    cargo build --release -p server --bin portico
    PORTICO="${CARGO_TARGET_DIR:-target}/release/portico"
  fi
}

# A scratch folder ($work) and the processes to stop on exit ($pids).
work=$(mktemp -d)
chmod 755 "$work"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# An nginx config with one worker in $work/$1/nginx.conf: $1 name, $2 server block(s)
# for http {}, $3 extra main-context directives (e.g. `master_process off;`).
nginx_conf() {
  local name="$1" servers="$2" main="${3:-}"
  local dir="$work/$name"
  mkdir -p "$dir/logs" "$dir/tmp"
  cat >"$dir/nginx.conf" <<EOF
worker_processes 1;
daemon off;
$main
pid $dir/nginx.pid;
error_log $dir/logs/error.log warn;
events { worker_connections 4096; multi_accept on; }
http {
  access_log off;
  client_body_temp_path $dir/tmp/body;
  proxy_temp_path $dir/tmp/proxy;
  fastcgi_temp_path $dir/tmp/fastcgi;
  uwsgi_temp_path $dir/tmp/uwsgi;
  scgi_temp_path $dir/tmp/scgi;
  keepalive_requests 10000000;
  keepalive_timeout 75s;
  $servers
}
EOF
}

# An nginx with one worker: $1 name, $2 server block(s) for http {}, $3 CPU to pin it to
# (empty: not pinned). Its pid is appended to $pids.
start_nginx() {
  local name="$1" servers="$2" cpu="${3:-}"
  local dir="$work/$name"
  nginx_conf "$name" "$servers"
  if [ -n "$cpu" ]; then
    taskset -c "$cpu" "$NGINX" -p "$dir" -c "$dir/nginx.conf" -e "$dir/logs/error.log" &
  else
    "$NGINX" -p "$dir" -c "$dir/nginx.conf" -e "$dir/logs/error.log" &
  fi
  pids+=($!)
}

# The baseline proxy's server block: nginx listening on 127.0.0.1:$1, proxying to the
# upstream on 127.0.0.1:$2 with a keep-alive pool (and the usual forwarding headers).
nginx_proxy_servers() {
  cat <<EOF
  upstream backend { server 127.0.0.1:$2; keepalive 128; keepalive_requests 10000000; }
  server {
    listen 127.0.0.1:$1;
    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host \$proxy_host;
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto \$scheme;
      proxy_set_header X-Forwarded-Host \$host;
      proxy_set_header X-Forwarded-Port \$server_port;
    }
  }
EOF
}

# The upstream every proxy under test forwards to: GET / answers a fixed 13-byte body.
#   start_upstream PORT [CPU]
start_upstream() {
  start_nginx upstream "server { listen 127.0.0.1:$1; location / { return 200 'hello, world\n'; } }" "${2:-}"
}

# A standalone node's cached snapshot in $1/config.json: one service proxying every
# path to the upstream on 127.0.0.1:$2 (the node serves it without a control plane).
# $3: more services (JSON, each after a comma); $4: more top-level members (JSON, each
# after a comma: `,"plugins":[…],"consumers":[…]`).
write_snapshot() {
  mkdir -p "$1"
  cat >"$1/config.json" <<EOF
{"runtime_group_id":"00000000-0000-0000-0000-000000000001","runtime_group":"default",
 "config_version":1,"generated_at":"2026-01-01T00:00:00Z",
 "services":[{"version_id":"v","package_id":"p","package_key":"bench","package_name":"bench",
   "version_name":"v1",
   "upstream":{"protocol":"http","host":"127.0.0.1","port":$2,"path":null,"retries":5,
     "connect_timeout_ms":60000,"read_timeout_ms":60000,"write_timeout_ms":60000},
   "routes":[{"id":"r","paths":["/"],"strip_path":false}]}${3:-}]${4:-}}
EOF
}

# Waits until $1 answers 200 (up to 60 s: a node under valgrind starts slowly); $2..:
# more curl arguments (e.g. `-H "apikey: k"`).
wait_up() {
  local url="$1"
  shift
  for _ in $(seq 1 600); do
    if [ "$(curl -s -o /dev/null -w '%{http_code}' "$@" "$url")" = 200 ]; then return 0; fi
    sleep 0.1
  done
  echo "$url did not answer 200" >&2
  exit 1
}
