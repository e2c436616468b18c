# Spikard — two commands matter: `make run` and `make test`.
# Everything else here is a step they take, or a tool for developers.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

PYTHON ?= python3
VENV := .venv
VPY := $(VENV)/bin/python
# A second interpreter for the Python suite: asyncio starts Tasks eagerly
# from 3.12 on, and the dispatcher has a path for each side of that line.
PYTHON_ALT ?= $(firstword $(wildcard $(HOME)/.pyenv/versions/3.12*/bin/python3) $(shell command -v python3.12 python3.13 2>/dev/null))
VENV_ALT := .venv-alt
VPY_ALT := $(VENV_ALT)/bin/python
LIB := build/libspikard.so
SHARED ?= ../shared
FIXTURES ?= $(SHARED)/conformance/fixtures

GO_SOURCES := $(shell find core capi -name '*.go' -not -name '*_test.go' 2>/dev/null) go.mod go.sum
PY_NATIVE := $(wildcard bindings/python/src/*.c) bindings/python/setup.py include/spikard.h

.PHONY: docs-assets all setup test-tools setup-node test-node run test wheel test-go test-c test-python test-python-alt conformance test-conformance parity parity-servers test-runner lint test-bench bench bench-quick bench-node bench-tools soak example-go example-c clean

all: setup

## setup: Go modules, libspikard.so, a virtualenv with the spikard package
## installed, and redis-server for the broadcast tests.
setup: $(VENV)/.installed test-tools

# redis-server: the broadcast tests (Go and Python) start their own on a free
# port; on Debian (as root) a missing one is installed, as wrk is for bench.
test-tools:
	@if ! command -v redis-server >/dev/null; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			apt-get update -qq && apt-get install -y -qq redis-server; \
		else \
			echo "setup: redis-server not found; install it (Debian: apt-get install redis-server)"; exit 1; \
		fi; \
	fi
	@# chromium: the docs-page test (bindings/python/tests/test_docs_browser.py)
	@# loads Swagger UI headless with the network cut off.
	@if ! command -v chromium >/dev/null; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			apt-get update -qq && apt-get install -y -qq chromium; \
		else \
			echo "setup: chromium not found; install it (Debian: apt-get install chromium)"; exit 1; \
		fi; \
	fi

$(LIB): $(GO_SOURCES) $(wildcard core/openapi/assets/* core/openapi/assets/*/*) include/spikard.h
	go mod download
	go build -buildmode=c-shared -o $(LIB) ./capi

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install --quiet --upgrade pip

# The package builds its own copy of libspikard.so (pip must work without make);
# reinstall whenever the Go or native sources change.
$(VENV)/.installed: $(VENV)/bin/python $(LIB) $(PY_NATIVE) $(shell find bindings/python/spikard -name '*.py' 2>/dev/null) bindings/python/pyproject.toml
	$(VPY) -m pip install --quiet -r bindings/python/requirements-dev.txt
	$(VPY) -m pip install --quiet --no-build-isolation --force-reinstall --no-deps ./bindings/python
	touch $@

## run: serve the brief's Quick Start on 127.0.0.1:8000.
run: setup
	$(VPY) examples/python/quickstart.py

## test: every suite. The last two lines say what passed and what the
## corpus run only reports (its failures outside the owned categories, its
## known limitations and its listed divergences do not fail make test).
test: setup lint test-go test-c test-python test-python-alt test-node test-bench test-runner wheel parity test-conformance
	@echo "make test: passed: lint test-go test-c test-python test-python-alt test-node test-bench test-runner wheel; parity: $$(cat build/parity.summary)"
	@echo "make test: conformance corpus, reported only but for an owned category's failure, a difference between languages or a stale divergence list: $$(cat build/conformance.summary)"

lint: setup setup-node
	VPY=$(VPY) bash ci/lint.sh

test-go: test-tools
	go test -race -count=1 ./...

test-c: $(LIB)
	bash tests/c/run.sh

test-python: setup
	$(VPY) -m pytest -q bindings/python/tests

# The Python suite again on PYTHON_ALT (3.12+ when the default is older).
$(VENV_ALT)/.installed: $(LIB) $(PY_NATIVE) $(shell find bindings/python/spikard -name '*.py' 2>/dev/null) bindings/python/requirements-dev.txt
	@if [ -z "$(PYTHON_ALT)" ]; then \
		echo "test-python-alt: no Python 3.12+ found; set PYTHON_ALT=/path/to/python3.12" >&2; exit 1; \
	fi
	[ -x $(VPY_ALT) ] || $(PYTHON_ALT) -m venv $(VENV_ALT)
	$(VPY_ALT) -m pip install --quiet --upgrade pip
	$(VPY_ALT) -m pip install --quiet -r bindings/python/requirements-dev.txt
	SPIKARD_LIB=$(abspath $(LIB)) $(VPY_ALT) -m pip install --quiet --no-build-isolation --force-reinstall --no-deps ./bindings/python
	touch $@

test-python-alt: $(VENV_ALT)/.installed
	$(VPY_ALT) -m pytest -q bindings/python/tests

# The Node addon (bindings/node): node-addon-api from npm, built with node-gyp
# against the headers of the installed Node (no download), libspikard.so
# copied beside it. Rebuilt when the library, the addon or its package change.
NODE_ADDON := bindings/node/build/Release/spikard.node
$(NODE_ADDON): $(LIB) $(wildcard bindings/node/src/*.cc) bindings/node/binding.gyp bindings/node/package.json bindings/node/package-lock.json
	bash bindings/node/build.sh

setup-node: $(NODE_ADDON)

test-node: setup-node
	node --test bindings/node/test/
	bash bindings/node/test/pack.sh
	bindings/node/node_modules/.bin/tsc -p bindings/node/tsconfig.json

## wheel: the wheels a user installs without Go (CPython 3.10-3.13,
## auditwheel-repaired), each smoke-tested in a fresh virtualenv with no Go
## or compiler on the PATH; build/wheel/dist.
wheel: $(LIB)
	bash ci/wheel.sh

## test-bench: the benchmark tooling's own tests (no timing).
test-bench: setup
	$(VPY) -m pytest -q bench/tests

# The runner (tests/conformance/run.py) sends every case to one fixture
# server per language of tests/parity/servers/servers.json; the C one is
# built here, the Python one runs on $(VPY).
parity-servers: $(LIB) setup-node
	bash tests/parity/servers/c/build.sh

## conformance: the shared fixture corpus in every language (FIXTURES=dir for another one).
conformance: setup parity-servers
	$(VPY) tests/conformance/run.py --fixtures $(FIXTURES)

## parity: the project's own cases in tests/parity, in every language; fails on any difference.
parity: setup parity-servers
	rm -f build/parity.summary
	$(VPY) tests/conformance/run.py --fixtures tests/parity --summary build/parity.summary
	$(VPY) -m pytest -q tests/parity/test_access_log.py

# test-conformance: the corpus when FIXTURES exists (fails on an owned
# category's failure, a difference between languages or a stale divergence
# list; the other failures are reported only), else a skip message. The
# counts go to build/conformance.summary for make test's last line.
test-conformance: setup parity-servers
	@rm -f build/conformance.summary
	@if [ -d "$(FIXTURES)" ]; then \
		$(VPY) tests/conformance/run.py --fixtures $(FIXTURES) --summary build/conformance.summary; \
	else \
		echo "SKIPPED, fixture directory $(FIXTURES) not found (set FIXTURES=dir)" | tee build/conformance.summary; \
	fi

# test-runner: the runner's own tests (a broken C server must fail a run;
# each realtime check fails against a wrong server).
test-runner: setup parity-servers
	$(VPY) -m pytest -q tests/conformance/test_runner.py tests/conformance/test_realtime.py

## docs-assets: refresh the docs pages' scripts and stylesheets
## (core/openapi/assets, embedded in the library) from the npm registry.
SWAGGER_UI_VERSION ?= 5.35.0
REDOC_VERSION ?= 2.5.4
docs-assets:
	SWAGGER_UI_VERSION=$(SWAGGER_UI_VERSION) REDOC_VERSION=$(REDOC_VERSION) bash ci/docs-assets.sh

## bench: the benchmark harness (see bench/README.md).
bench: setup bench-tools
	$(PYTHON) bench/run.py --python $(VPY)

bench-quick: setup bench-tools
	$(PYTHON) bench/run.py --quick --python $(VPY)

# The Node table: @spikard/node against Fastify, Hono and Express (each peer
# installed by the harness with npm ci from its package-lock.json), 3 pinned
# rounds of 10 s (about 50 min).
bench-node: setup-node bench-tools
	$(PYTHON) bench/run.py --servers spikard-node,fastify,hono,express,ceiling --rounds 3 --pinned-only --label node

## soak: the Quick Start app under SOAK_SECONDS (default 600) of mixed wrk
## load, then rounds with 1,000 slow clients, judged: RSS drift, fds, the
## fast clients' rate, SIGTERM (bench/README.md; about 15 min). By hand
## only: not part of make test.
SOAK_SECONDS ?= 600
soak: setup bench-tools
	$(PYTHON) bench/soak/soak.py --python $(VPY) --seconds $(SOAK_SECONDS)

# wrk is the load generator; on Debian (as root) a missing one is installed.
bench-tools:
	@if ! command -v wrk >/dev/null; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			apt-get update -qq && apt-get install -y -qq wrk; \
		else \
			echo "bench: wrk not found; install it (Debian: apt-get install wrk)"; exit 1; \
		fi; \
	fi

example-go:
	go run ./examples/go

example-c: $(LIB)
	$(MAKE) -C examples/c run

clean:
	rm -rf build $(VENV) $(VENV_ALT) bindings/python/build bindings/python/*.egg-info
