# Portico — the two commands:
#   make run    set up what is missing, build (release) and run Portico on http://127.0.0.1:3000
#   make test   set up what is missing and run every check and test
# Both install only from crates.io, the npm registry and Debian packages.

SHELL := /bin/bash
.ONESHELL:
.SHELLFLAGS := -euo pipefail -c

CARGO_LEPTOS_VERSION := 0.3.11
WASM_BINDGEN_VERSION := $(shell grep -A1 '^name = "wasm-bindgen"$$' Cargo.lock | sed -n 's/^version = "\(.*\)"/\1/p')
export PATH := $(CURDIR)/end2end/node_modules/.bin:$(HOME)/.cargo/bin:$(PATH)

.PHONY: run test tools echarts check unit bundle e2e seed bench-hub bench-portal bench-spec bench-proxy bench-recording bench-plugins bench-analytics

## Installs what is missing; fast when everything is present.
tools:
	@if ! rustup target list --installed | grep -q '^wasm32-unknown-unknown$$'; then
		echo "==> adding the wasm32 target"; rustup target add wasm32-unknown-unknown
	fi
	if ! cargo leptos --version 2>/dev/null | grep -q "$(CARGO_LEPTOS_VERSION)"; then
		echo "==> installing cargo-leptos $(CARGO_LEPTOS_VERSION) (no tool downloads; ~15 min cold)"
		cargo install --locked --ignore-rust-version cargo-leptos --version $(CARGO_LEPTOS_VERSION) --features no_downloads
	fi
	if ! wasm-bindgen --version 2>/dev/null | grep -q " $(WASM_BINDGEN_VERSION)$$"; then
		echo "==> installing wasm-bindgen-cli $(WASM_BINDGEN_VERSION) (the version in Cargo.lock)"
		cargo install --force wasm-bindgen-cli --version $(WASM_BINDGEN_VERSION)
	fi
	if [ ! -d end2end/node_modules ] || [ end2end/package-lock.json -nt end2end/node_modules/.stamp ]; then
		echo "==> installing npm packages (Playwright, axe, binaryen's wasm-opt)"
		(cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund && touch node_modules/.stamp)
	fi
	if [ ! -x /usr/bin/chromium ]; then
		echo "==> installing Debian's chromium"
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium
	fi
	if ! command -v redis-server >/dev/null; then
		echo "==> installing Debian's redis-server (the rate-limiting redis policy's tests)"
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y redis-server
	fi

## The trimmed ECharts build the chart pages load (public/vendor/echarts.min.js, not
## committed; cargo-leptos copies public/ into the site): esbuild bundles the modules
## frontend/echarts/entry.mjs imports from the npm package into a minified IIFE that
## defines the global `echarts`. Rebuilt only when the entry or the npm lock changes.
ECHARTS_JS := public/vendor/echarts.min.js
echarts: tools $(ECHARTS_JS)
$(ECHARTS_JS): frontend/echarts/entry.mjs end2end/package-lock.json | tools
	mkdir -p $(@D)
	NODE_PATH=end2end/node_modules esbuild frontend/echarts/entry.mjs --bundle --minify \
		--format=iife --target=es2020 --legal-comments=none --log-level=warning --outfile=$@
	echo "==> $@: $$(wc -c < $@) bytes, $$(gzip -9 -c $@ | wc -c) gzip"

## Builds the release site and serves it on an embedded SQLite file in ./data.
run: tools echarts
	cargo leptos build --release --precompress
	# served as Content-Encoding br or gzip when the browser accepts it; cargo-leptos'
	# .gz files are larger than gzip -9's (wasm: 1,097 KB vs 924 KB)
	for f in target/site/pkg/*.wasm target/site/pkg/*.js target/site/pkg/*.css target/site/vendor/*.js; do \
		gzip -9 -n -k -f "$$f"; done
	LEPTOS_SITE_ROOT=target/site LEPTOS_SITE_PKG_DIR=pkg LEPTOS_OUTPUT_NAME=portico \
		"$${CARGO_TARGET_DIR:-target}/release/portico" serve

## Formatting, lints for each feature set, the wasm dependency guard.
check: tools
	cargo fmt --all -- --check
	cargo clippy -p app --features ssr --all-targets -- -D warnings
	cargo clippy -p server -p migration -p portico-router -p portico-h1 -p portico-plugins --all-targets -- -D warnings
	cargo clippy -p frontend -p app --features app/hydrate --target wasm32-unknown-unknown -- -D warnings
	bad=$$(cargo tree -p frontend --target wasm32-unknown-unknown -e normal --prefix none \
		| grep -E -o '^(sea-orm|sqlx[a-z-]*|tokio|hyper|axum|comrak) ' | sort -u || true)
	if [ -n "$$bad" ]; then echo "the wasm bundle links server crates: $$bad"; exit 1; fi
	echo "wasm dependency guard: no server crates in the browser bundle"

## Unit, store (SQLite; PostgreSQL when PORTICO_TEST_POSTGRES_URL is set), Redis
## (PORTICO_TEST_REDIS_URL, else a redis-server child of the test) and HTTP tests.
unit: tools
	@if [ -z "$${PORTICO_TEST_POSTGRES_URL:-}" ]; then
		echo "PORTICO_TEST_POSTGRES_URL is not set: the PostgreSQL runs of the store tests are skipped"
	else
		echo "the store tests also run on PostgreSQL (PORTICO_TEST_POSTGRES_URL is set)"
	fi
	if [ -z "$${PORTICO_TEST_REDIS_URL:-}" ]; then
		echo "PORTICO_TEST_REDIS_URL is not set: the tests that share one Redis start their own redis-server (or are skipped without it)"
	else
		echo "the rate-limiting tests share the Redis at $${PORTICO_TEST_REDIS_URL}"
	fi
	set -x
	cargo test -p app --features ssr
	cargo test -p server -p migration -p portico-router -p portico-h1 -p portico-plugins

## What a chart page's browser loads (goal ≤ 500 KB gzip): the release wasm and its JS
## glue (islands: only the interactive parts are compiled to wasm) and the trimmed
## ECharts, each gzip -9 as `make run` serves them. Fails above the goal.
BUNDLE_GOAL_KB := 500
bundle: tools echarts
	cargo leptos build --release --frontend-only
	total=0
	for f in target/site/pkg/portico.wasm target/site/pkg/portico.js $(ECHARTS_JS); do
		raw=$$(wc -c < "$$f"); gz=$$(gzip -9 -n -c "$$f" | wc -c); total=$$((total + gz))
		printf '%-40s %9d bytes %8d gzip\n' "$$f" "$$raw" "$$gz"
	done
	echo "==> a chart page loads $$((total / 1000)) KB gzip of JS and wasm (goal ≤ $(BUNDLE_GOAL_KB) KB)"
	if [ "$$total" -gt $$(($(BUNDLE_GOAL_KB) * 1000)) ]; then echo "==> over the goal"; exit 1; fi

## Playwright in Chromium, with JavaScript and without, against a fresh SQLite file.
E2E_ADDR := 127.0.0.1:3917
E2E_PROXY := 127.0.0.1:3918
e2e: tools echarts
	cargo leptos build
	rm -rf target/e2e-data
	env -u DATABASE_URL LEPTOS_SITE_ROOT=target/site LEPTOS_SITE_PKG_DIR=pkg LEPTOS_OUTPUT_NAME=portico \
		"$${CARGO_TARGET_DIR:-target}/debug/portico" serve --data-dir target/e2e-data --listen $(E2E_ADDR) --proxy-listen default=$(E2E_PROXY) \
		> target/e2e-server.log 2>&1 &
	pid=$$!
	trap 'kill $$pid 2>/dev/null || true' EXIT
	for _ in $$(seq 1 150); do curl -fs http://$(E2E_ADDR)/healthz >/dev/null && break; sleep 0.2; done
	if ! kill -0 $$pid 2>/dev/null; then
		echo "==> the e2e server is not running (is $(E2E_ADDR) taken by another process?)"
		cat target/e2e-server.log
		exit 1
	fi
	cd end2end
	if ! PORTICO_URL=http://$(E2E_ADDR) PORTICO_PROXY_URL=http://$(E2E_PROXY) npx playwright test; then
		echo "==> the last lines of the server's log (target/e2e-server.log)"
		tail -n 60 ../target/e2e-server.log
		exit 1
	fi

test: check unit bundle e2e

## 1,000 packages with 3 versions each in ./data (for the performance figures).
seed:
	cargo run --release -p server -- seed --packages 1000 --versions 3

## Median server time of the Service Hub page over the seeded catalog (release build).
bench-hub:
	server/benches/hub_page.sh

## Median server time of the Dev Portal's pages over 1,000 published packages (release build).
bench-portal:
	server/benches/portal_page.sh

## Parsing and rendering a generated 5 MB API spec (criterion, release build).
bench-spec:
	cargo bench -p server --bench spec_render

## Requests/s and p99 of the data plane on one worker thread vs nginx with one worker (release build; installs wrk and nginx when missing).
bench-proxy:
	server/benches/proxy_load.sh

## What analytics recording costs a proxied request: instructions per request under
## callgrind with the recorder on and off (goal ≤ 3 %; installs valgrind when missing).
bench-recording:
	server/benches/recording_cost.sh

## What plugins cost a proxied request: instructions per request under callgrind with no
## plugins, key-auth + rate-limiting (local, redis), plugins on another route only, and
## nginx / HAProxy with one worker (goals: local ≤ +15 %, another route's plugins +0,
## no plugins ≤ nginx; installs wrk, nginx, valgrind, redis-server when missing).
bench-plugins:
	server/benches/plugin_cost.sh

## The 30-day analytics dashboard over 10 million requests' worth of aggregates in a
## SQLite file (seeded by a generator): each query ≤ 50 ms.
bench-analytics:
	cargo bench -p server --bench analytics_query
