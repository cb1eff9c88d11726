#!/usr/bin/env bash
# Benchmark: the closed-connection guard's cost in isolation. SELECT 1 per second straight through PostgresNIO and
# through the guard (Modules/VPPPostgres/Connection/ClosedConnectionGuard.swift), at 1 / 8 / 32 concurrent
# connections, on a throwaway PostgreSQL. Sizes: CONCURRENCY (default 1,8,32), STATEMENTS per measurement (20000).
set -euo pipefail
cd "$(dirname "$0")/.."
PRODUCTS=vppbench
source Scripts/lib/bench-stack.sh
"$BIN/vppbench" guard --database-url "$VPP_TEST_DATABASE_URL" \
  --concurrency "${CONCURRENCY:-1,8,32}" --statements "${STATEMENTS:-20000}"
