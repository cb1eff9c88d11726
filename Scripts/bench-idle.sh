#!/usr/bin/env bash
# Benchmark: what two idle vppd replicas cost with 10, 1,000 and 10,000 tenants (two tokens each, all
# synced recently, nothing due): database statements, transactions and rows read per minute, and CPU
# seconds per minute of the two servers. Goal: flat — idle cost must not grow with the number of tenants.
#
#   Scripts/bench-idle.sh                     # release build, sizes 10 1000 10000, 60 s each
#   CONFIG=debug SIZES="10 1000" SECONDS_PER_SIZE=30 Scripts/bench-idle.sh
#   SHOW_TABLES=1 …                           # also the tables read most, and the costliest statements
set -euo pipefail
cd "$(dirname "$0")/.."
PRODUCTS="vppd vppctl"
source Scripts/lib/bench-stack.sh
SIZES=${SIZES:-"10 1000 10000"}
WINDOW=${SECONDS_PER_SIZE:-60}
export VPP_APPLE_BASE_URL=http://127.0.0.1:9/mdm/v2
enable_statement_stats
cpu_ticks() { local total=0; for p in "$@"; do total=$((total + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done; echo "$total"; }
database_counters() {
  psql "$VPP_TEST_DATABASE_URL" -Atc "SELECT xact_commit + xact_rollback, tup_returned + tup_fetched
    FROM pg_stat_database WHERE datname = '$1'" | tr '|' ' '
}

for size in $SIZES; do
  db="idle_$size"
  new_database "$db"
  "$BIN/vppctl" tenant list >/dev/null  # stores the key check value before any secret exists
  key_id=$(psql "$VPP_DATABASE_URL" -Atc "SELECT key_id FROM encryption_key_check")
  # Tenants with two tokens each, synced a minute ago: nothing is due for hours.
  psql "$VPP_DATABASE_URL" -q >/dev/null <<SQL
    INSERT INTO tenants (tenant_id, name, holder_id, holder_name, holder_metadata, created_at)
      SELECT md5('t' || i)::uuid, 'tenant-' || i, 'holder-' || i, 'vpp', 'bench', 0 FROM generate_series(1, $size) i;
    INSERT INTO tokens (tenant_id, token_id, location_uid, location_name, country, org_name, expires_at, fingerprint,
                        recipients, secret_key_id, secret)
      SELECT md5('t' || i)::uuid, md5('k' || i || '-' || j)::uuid, 'loc-' || i || '-' || j, 'Location ' || j, 'US',
             'Org', (extract(epoch from now()) * 1000)::bigint + 200::bigint * 86400000, 'abcd', '[]', '$key_id',
             '\\x00'::bytea
      FROM generate_series(1, $size) i, generate_series(1, 2) j;
    INSERT INTO token_sync (tenant_id, token_id, last_success_at, last_attempt_at, failures)
      SELECT tenant_id, token_id, (extract(epoch from now()) * 1000)::bigint, (extract(epoch from now()) * 1000)::bigint, 0
      FROM tokens;
    VACUUM ANALYZE;
SQL
  start_vppd; start_vppd
  sleep 10
  read -r xacts0 rows0 < <(database_counters "$db")
  statements0=$(statements_in "$db")
  cpu0=$(cpu_ticks "${VPPD_PIDS[@]}")
  sleep "$WINDOW"
  read -r xacts1 rows1 < <(database_counters "$db")
  statements1=$(statements_in "$db")
  cpu1=$(cpu_ticks "${VPPD_PIDS[@]}")
  if [ -n "${SHOW_TABLES:-}" ]; then
    psql "$VPP_DATABASE_URL" -Atc "SELECT relname, seq_scan, seq_tup_read, idx_scan, idx_tup_fetch FROM pg_stat_user_tables
      ORDER BY seq_tup_read + coalesce(idx_tup_fetch, 0) DESC LIMIT 6"
    psql "$VPP_TEST_DATABASE_URL" -Atc "SELECT calls, rows, left(regexp_replace(query, '\s+', ' ', 'g'), 110)
      FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = '$db'
      ORDER BY rows DESC LIMIT 8"
  fi
  python3 - "$size" "$WINDOW" "$((statements1 - statements0))" "$((xacts1 - xacts0))" "$((rows1 - rows0))" \
    "$((cpu1 - cpu0))" "$(getconf CLK_TCK)" <<'PY'
import sys
size, window, statements, xacts, rows, cpu, ticks = sys.argv[1:]
per_minute = 60 / float(window)
print(f"idle[{int(size):>6} tenants, 2 replicas]: {float(statements) * per_minute:7.0f} statements/min, "
      f"{float(xacts) * per_minute:6.0f} transactions/min, {float(rows) * per_minute:9.0f} rows read/min, "
      f"{float(cpu) / float(ticks) * per_minute:5.2f} CPU s/min")
PY
  stop_vppds
done
