#!/usr/bin/env bash
# Benchmark: storing a sync of 200,000 assignments (batched multi-row inserts) on PostgreSQL and on
# SQLite; prints time and peak memory. Targets: < 10 s on PostgreSQL, < 200 MB peak.
set -euo pipefail
cd "$(dirname "$0")/.."
log() { printf '[bench] %s\n' "$*" >&2; }
CONFIG=${CONFIG:-release}
swift build -c "$CONFIG" --product vppbench 2>&1 | grep -E "error" || true
BIN=$(swift build -c "$CONFIG" --show-bin-path)
SQLITE_DIR=$(mktemp -d)
trap 'stop_postgres; rm -rf "$SQLITE_DIR"' EXIT
source Scripts/lib/throwaway-postgres.sh
"$BIN/vppbench" store-sync --database-url "$VPP_TEST_DATABASE_URL" --assignments "${ASSIGNMENTS:-200000}"
"$BIN/vppbench" store-sync --database-url "sqlite://$SQLITE_DIR/bench.sqlite" --assignments "${ASSIGNMENTS:-200000}"
