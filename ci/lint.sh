#!/usr/bin/env bash
# Formatting and static checks for every language in the repo; `make lint`
# (and so `make test`) runs it. Fails on the first finding.
set -euo pipefail
cd "$(dirname "$0")/.."
VPY=${VPY:-.venv/bin/python}

unformatted=$(gofmt -l core capi bench examples/go)
if [ -n "$unformatted" ]; then
	echo "gofmt: these files need formatting:" >&2
	echo "$unformatted" >&2
	exit 1
fi
go vet ./...
# Pinned so that every machine judges the same code the same way.
go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...
"$VPY" -m ruff format --check bindings/python bench tests/conformance tests/parity/servers
"$VPY" -m ruff check bindings/python bench tests/conformance tests/parity/servers
"$VPY" -m mypy --strict --config-file bindings/python/pyproject.toml bindings/python/spikard
# examples/python mirrors the brief's samples line for line, so it is checked
# for errors only, not for import order or style.
"$VPY" -m ruff check --select E,F --ignore E501 examples/python
# Node: prettier and eslint (pinned in bindings/node/package.json) over the
# package, its tests, the example, the parity server and the benchmark's Node
# apps (ours and the peers', named one by one: their node_modules stay out).
node_bin=bindings/node/node_modules/.bin
node_paths=(bindings/node/lib bindings/node/test examples/node tests/parity/servers/node
	bench/apps/spikard_app.mjs bench/peers/*/app.mjs)
"$node_bin/prettier" --config bindings/node/.prettierrc.json --check "${node_paths[@]}"
"$node_bin/eslint" -c bindings/node/eslint.config.mjs "${node_paths[@]}"
