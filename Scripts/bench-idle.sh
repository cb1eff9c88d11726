#!/usr/bin/env bash
# Benchmark: what two idle vppd replicas cost with 10, 1,000 and 10,000 tenants (two tokens each, all
# synced recently, nothing due): database transactions and rows read per minute, and CPU seconds per
# minute of the two servers. Goal: flat — idle cost must not grow with the number of tenants.
#
#   Scripts/bench-idle.sh                     # release build, sizes 10 1000 10000, 60 s each
#   CONFIG=debug SIZES="10 1000" SECONDS_PER_SIZE=30 Scripts/bench-idle.sh
set -euo pipefail
cd "$(dirname "$0")/.."
log() { printf '[bench] %s\n' "$*" >&2; }
CONFIG=${CONFIG:-release}
SIZES=${SIZES:-"10 1000 10000"}
WINDOW=${SECONDS_PER_SIZE:-60}
for product in vppd vppctl; do swift build -c "$CONFIG" --product "$product" 2>&1 | grep -E "error" || true; done
BIN=$(swift build -c "$CONFIG" --show-bin-path)
source Scripts/lib/throwaway-postgres.sh
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; stop_postgres' EXIT
export VPP_ENCRYPTION_KEY=$(python3 -c 'import base64,os; print(base64.b64encode(os.urandom(32)).decode())')
export VPP_LOG_LEVEL=error VPP_APPLE_BASE_URL=http://127.0.0.1:9/mdm/v2
cpu_seconds() { local total=0; for p in "$@"; do total=$((total + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done; echo "$total"; }

for size in $SIZES; do
  db="idle_$size"
  psql "$VPP_TEST_DATABASE_URL" -qc "CREATE DATABASE $db" >/dev/null
  export VPP_DATABASE_URL="${VPP_TEST_DATABASE_URL%/postgres}/$db"
  "$BIN/vppctl" migrate >/dev/null
  "$BIN/vppctl" tenant list >/dev/null  # stores the key check value before any secret exists
  key_id=$(psql "$VPP_DATABASE_URL" -Atc "SELECT key_id FROM encryption_key_check")
  # Tenants with two tokens each, synced a minute ago: nothing is due for hours.
  psql "$VPP_DATABASE_URL" -q >/dev/null <<SQL
    INSERT INTO tenants (tenant_id, name, holder_id, holder_name, holder_metadata, created_at)
      SELECT md5('t' || i)::uuid, 'tenant-' || i, 'holder-' || i, 'vpp', 'bench', 0 FROM generate_series(1, $size) i;
    INSERT INTO tokens (tenant_id, token_id, location_uid, location_name, country, org_name, expires_at, fingerprint,
                        recipients, secret_key_id, secret)
      SELECT md5('t' || i)::uuid, md5('k' || i || '-' || j)::uuid, 'loc-' || i || '-' || j, 'Location ' || j, 'US', 'Org',
             (extract(epoch from now()) * 1000)::bigint + 200::bigint * 86400000, 'abcd', '[]', '$key_id', '\\x00'::bytea
      FROM generate_series(1, $size) i, generate_series(1, 2) j;
    INSERT INTO token_sync (tenant_id, token_id, last_success_at, last_attempt_at, failures)
      SELECT tenant_id, token_id, (extract(epoch from now()) * 1000)::bigint, (extract(epoch from now()) * 1000)::bigint, 0
      FROM tokens;
    ANALYZE;
SQL
  SERVERS=()
  for _ in 1 2; do
    "$BIN/vppd" serve --port "$(free_port)" >/dev/null 2>&1 & SERVERS+=($!); PIDS+=($!)
  done
  sleep 10
  read -r xacts0 rows0 < <(psql "$VPP_TEST_DATABASE_URL" -Atc "SELECT xact_commit + xact_rollback, tup_returned + tup_fetched FROM pg_stat_database WHERE datname = '$db'" | tr '|' ' ')
  cpu0=$(cpu_seconds "${SERVERS[@]}")
  sleep "$WINDOW"
  read -r xacts1 rows1 < <(psql "$VPP_TEST_DATABASE_URL" -Atc "SELECT xact_commit + xact_rollback, tup_returned + tup_fetched FROM pg_stat_database WHERE datname = '$db'" | tr '|' ' ')
  cpu1=$(cpu_seconds "${SERVERS[@]}")
  if [ -n "${SHOW_TABLES:-}" ]; then
    psql "$VPP_DATABASE_URL" -Atc "SELECT relname, seq_scan, seq_tup_read, idx_scan, idx_tup_fetch FROM pg_stat_user_tables ORDER BY seq_tup_read + coalesce(idx_tup_fetch, 0) DESC LIMIT 6"
  fi
  ticks=$(getconf CLK_TCK)
  python3 - "$size" "$WINDOW" "$((xacts1 - xacts0))" "$((rows1 - rows0))" "$((cpu1 - cpu0))" "$ticks" <<'PY'
import sys
size, window, xacts, rows, cpu, ticks = sys.argv[1:]
per_minute = 60 / float(window)
print(f"idle[{int(size):>6} tenants, 2 replicas]: {float(xacts) * per_minute:7.0f} transactions/min, "
      f"{float(rows) * per_minute:9.0f} rows read/min, {float(cpu) / float(ticks) * per_minute:5.2f} CPU s/min")
PY
  for p in "${SERVERS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait "${SERVERS[@]}" 2>/dev/null || true
done
