#!/usr/bin/env bash
# Benchmark: a full sync of 5,000 assets and 200,000 assignments from vppsim (rate limit off), an
# incremental sync of 100 changes, and a bulk assignment of 10,000 devices, on PostgreSQL.
# Prints wall time, peak RSS, the share spent in the database, and Apple calls against the minimum.
set -euo pipefail
cd "$(dirname "$0")/.."
log() { printf '[bench] %s\n' "$*" >&2; }
CONFIG=${CONFIG:-release}
[ -n "${BENCH_BIN:-}" ] || swift build -c "$CONFIG" --product vppsim 2>&1 | grep -E "error" || true
[ -n "${BENCH_BIN:-}" ] || swift build -c "$CONFIG" --product vppbench 2>&1 | grep -E "error" || true
BIN=${BENCH_BIN:-$(swift build -c "$CONFIG" --show-bin-path)}
source Scripts/lib/throwaway-postgres.sh
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
"$BIN/vppsim" serve --port "$PORT" --rate-limit 0 --log-level error &
SIM=$!
trap 'kill $SIM 2>/dev/null || true; stop_postgres' EXIT
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$PORT/mdm/v2/service/config" >/dev/null 2>&1 && break; sleep 0.1; done
"$BIN/vppbench" sync --simulator "http://127.0.0.1:$PORT" --database-url "$VPP_TEST_DATABASE_URL" \
  --assets "${ASSETS:-5000}" --assignments "${ASSIGNMENTS:-200000}" --bulk-devices "${BULK:-10000}"
