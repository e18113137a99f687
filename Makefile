# palaute: the commands of SPEC §6. Each installs what it needs first.
#   make demo   build, start the collector with demo pages, print URLs + token
#   make test   every test: format, lints (both targets), Rust, browser end-to-end
#   make build  release collector + size-optimised client (target/release/www)
#   make bench  the benchmarks of BENCHMARKS.md (client weight beside web-vitals
#               and Boomerang; ingest: wrk, collector vs nginx; queries: the
#               analyst API over BENCH_VIEWS generated page views, both stores)
#   make fuzz   fuzz beacon decoding and validation (FUZZ_SECONDS, default 600)

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
DEMO_LISTEN ?= 127.0.0.1:8080
DEMO_DATA ?= .palaute-demo
BENCH_SECONDS ?= 10
BENCH_CONNECTIONS ?= 64
BENCH_VIEWS ?= 10000000
BENCH_RUNS ?= 20
BENCH_PATHS ?= 100000
RELEASE_BIN := target/release/palaute-collector

.PHONY: setup client build demo test lint e2e bench fuzz

setup:
	@scripts/setup.sh

client: setup
	@scripts/build-client.sh
	@scripts/build-dashboard.sh

build: client
	cargo build --release -p palaute-collector
	rm -rf target/release/www && mkdir -p target/release/www
	cp -r www/dist www/demo target/release/www/
	@echo "built $(RELEASE_BIN); it serves the client from target/release/www"

demo: build
	@if [ ! -d $(DEMO_DATA) ]; then \
	  echo "a new demo store: generating a week of history (20,000 page views over a shop's 3,000 paths)"; \
	  $(RELEASE_BIN) generate --site demo --views 20000 --days 7 --paths 3000 --data $(DEMO_DATA); \
	fi
	@$(RELEASE_BIN) site add demo --origin http://$(DEMO_LISTEN) --origin http://localhost:$(lastword $(subst :, ,$(DEMO_LISTEN))) \
	  --data $(DEMO_DATA) > $(DEMO_DATA).site
	@token=$$(tail -n 1 $(DEMO_DATA).site); rm -f $(DEMO_DATA).site; \
	echo; \
	echo "palaute demo"; \
	echo "  demo pages:    http://$(DEMO_LISTEN)/demo/  (fast.html, slow.html)"; \
	echo "  dashboard:     http://$(DEMO_LISTEN)/dashboard/  (site: demo, token below)"; \
	echo "  report:        $(RELEASE_BIN) report --site demo --data $(DEMO_DATA)"; \
	echo "  raw export:    curl -H 'Authorization: Bearer $$token' 'http://$(DEMO_LISTEN)/api/v1/sites/demo/pageviews?format=ndjson'"; \
	echo "  analyst token: $$token"; \
	echo; \
	exec $(RELEASE_BIN) serve --demo --listen $(DEMO_LISTEN) --data $(DEMO_DATA)

lint: setup
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings
	cargo clippy -p palaute --target wasm32-unknown-unknown --all-targets -- -D warnings

test: client lint
	cargo test --workspace
	CHROMEDRIVER=/usr/bin/chromedriver cargo test -p palaute --target wasm32-unknown-unknown --lib
	cargo build -p palaute-collector
	node --test --test-timeout=120000 tests/e2e/

bench: client
	scripts/bench-size.sh
	cargo build -q -p palaute-collector
	node tests/bench/impact.mjs 20
	node tests/bench/prompt-latency.mjs 9
	PALAUTE_ACCURACY_TABLE=1 node --test --test-timeout=120000 tests/e2e/vitals.test.mjs
	scripts/bench-ingest.sh $(BENCH_SECONDS) $(BENCH_CONNECTIONS)
	scripts/soak.sh 10
	scripts/bench-cardinality.sh 120000 36000
	scripts/bench-queries.sh $(BENCH_VIEWS) $(BENCH_RUNS) $(BENCH_PATHS)

FUZZ_SECONDS ?= 600
fuzz:
	rustup toolchain list | grep -q nightly || rustup toolchain install nightly --profile minimal
	command -v cargo-fuzz >/dev/null || cargo +nightly install cargo-fuzz
	cd collector/fuzz && cargo +nightly fuzz run beacon corpus/beacon -- -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048
