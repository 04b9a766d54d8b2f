#!/usr/bin/env bash
# Benchmark: sopsfleet updatekeys against a sequential loop of
# `sops updatekeys -y` over a generated fleet of 500 files (see
# bench/updatekeys/main.go). Not a test: it prints wall times and ratios.
#
#   bench/updatekeys.sh [-files N] [-hosts N] [-cases abc] [-keep]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
echo "building sopsfleet and sops (go tool sops's pinned version)…" >&2
go build -o "$bin/sopsfleet" ./cmd/sopsfleet
go build -o "$bin/sops" github.com/getsops/sops/v3/cmd/sops
"$bin/sops" --version --disable-version-check 2>/dev/null | head -1 >&2 || true
go run ./bench/updatekeys -sopsfleet "$bin/sopsfleet" -sops "$bin/sops" "$@"
