# One entry point for set-up, build, tests, benchmarks and the demo. See README.md.
SHELL := /bin/bash
GO ?= go
BIN := bin
WASM := build/plugins
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo devel)
LDFLAGS := -X github.com/xmppgw/gateway/host/buildinfo.version=$(VERSION)
# Debian packages the project needs: the XMPP server for tests and the demo, PostgreSQL for the
# store tests, openssl for the demo's certificate, and the C libraries go-tdlib's cgo flags name
# (for the TDLib shape test). npm (for the prebuilt TDLib library) comes from Debian only when
# the machine has none.
DEB_PACKAGES := prosody prosody-modules postgresql openssl ca-certificates gcc g++ libssl-dev zlib1g-dev
# The gateway is built with the real TDLib (tag libtdjson); the library lives in .deps/tdlib.
TAGS := libtdjson
TDLIB_ENV = eval "$$(bash scripts/tdlib-deps.sh --env)"
# The packages whose own goroutines share state: run again under the race detector. (It cannot
# see into compiled Wasm, so the plugin-heavy end-to-end packages gain little from it.)
RACE_PKGS := ./host/plugin/... ./host/gateway/... ./host/store/... ./host/xmpp/... ./host/bridge/... ./host/files/... ./host/admin/...

.PHONY: all deps build plugins examples test test-short bench demo lint clean

all: build

## deps: install what the project needs on Debian 12 (idempotent; run as root)
deps:
	@missing=""; for p in $(DEB_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	command -v npm >/dev/null || missing="$$missing nodejs npm"; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	else echo "deps: all Debian packages present"; fi
	@command -v $(GO) >/dev/null || { echo "deps: Go 1.26 is required"; exit 1; }
	bash scripts/tdlib-deps.sh
	bash scripts/wasm-toolchains.sh

## build: the gateway binary and every in-tree plugin
build: plugins .deps/tdlib/lib/libtdjson.so
	$(TDLIB_ENV) && $(GO) build -tags $(TAGS) -ldflags "$(LDFLAGS)" -o $(BIN)/gateway ./cmd/gateway

.deps/tdlib/lib/libtdjson.so:
	bash scripts/tdlib-deps.sh

## plugins: compile every in-tree plugin from source to .wasm
plugins:
	@mkdir -p $(WASM)
	@for d in plugins/*/; do \
	  n=$$(basename $$d); \
	  [ -f $$d/main.go ] || continue; \
	  echo "plugin $$n -> $(WASM)/$$n.wasm"; \
	  GOOS=wasip1 GOARCH=wasm $(GO) build -buildmode=c-shared -o $(WASM)/$$n.wasm ./$$d || exit 1; \
	done

## examples: build the example plugins in C, Rust and AssemblyScript (toolchains: make deps)
examples:
	bash scripts/build-examples.sh

## test: everything, with the real Prosody and PostgreSQL (installs them first)
test: deps build examples
	$(GO) vet ./...
	bash scripts/build-examples.sh test
	$(TDLIB_ENV) && $(GO) test -tags $(TAGS) -count=1 -timeout 25m ./...
	$(TDLIB_ENV) && $(GO) test -tags $(TAGS) -race -count=1 -timeout 15m $(RACE_PKGS)

## test-short: unit tests only, no servers
test-short:
	$(GO) test -short ./...

## bench: the Go benchmarks (results and method: BENCHMARKS.md)
bench: build
	$(TDLIB_ENV) && $(GO) test -tags $(TAGS) -run '^$$' -bench . -benchmem -benchtime 1x -timeout 60m ./host/daemon
	$(GO) test -run '^$$' -bench . -benchmem ./host/plugin ./host/store ./host/xmpp/... ./sdk/...
	@mkdir -p build/bench
	$(TDLIB_ENV) && $(GO) run ./cmd/gwbench -floor -bare -json build/bench/plain.json
	$(TDLIB_ENV) && $(GO) run ./cmd/gwbench -full -floor -bare -json build/bench/full.json

## demo: Prosody + the gateway on loopback, in the foreground until Ctrl-C
demo: deps build
	./scripts/demo.sh

lint:
	gofmt -l . | tee /dev/stderr | (! read)
	$(GO) vet ./...

clean:
	rm -rf $(BIN) build
