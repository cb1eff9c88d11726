#!/usr/bin/env bash
# Benchmark: storing a sync of 200,000 assignments (batched multi-row inserts) on PostgreSQL and on
# SQLite; prints time and peak memory. Targets: < 10 s on PostgreSQL, < 200 MB peak.
set -euo pipefail
cd "$(dirname "$0")/.."
PRODUCTS=vppbench
source Scripts/lib/bench-stack.sh
SQLITE_DIR=$(mktemp -d)
trap 'stop_bench; rm -rf "$SQLITE_DIR"' EXIT
"$BIN/vppbench" store-sync --database-url "$VPP_TEST_DATABASE_URL" --assignments "${ASSIGNMENTS:-200000}"
"$BIN/vppbench" store-sync --database-url "sqlite://$SQLITE_DIR/bench.sqlite" --assignments "${ASSIGNMENTS:-200000}"
