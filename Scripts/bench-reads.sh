#!/usr/bin/env bash
# Benchmark: rows the database hands back to plan a token's removal (`vppctl token remove`, which only shows
# the plan without --yes), in tenants of SIZES devices of which HOLDERS hold the token's licences. The plan
# used to read every device of the tenant; it now reads the holders. Prints, per size, the statements and rows
# of the whole vppctl run and the rows of its statements on `devices` (pg_stat_statements, throwaway
# PostgreSQL). SIZES="1000 10000", HOLDERS=10 by default. CONFIG=debug by default; BENCH_BIN=<folder holding
# vppctl> measures another build (e.g. one built before this change, to compare).
set -euo pipefail
cd "$(dirname "$0")/.."
PRODUCTS="vppctl"
CONFIG=${CONFIG:-debug}
source Scripts/lib/bench-stack.sh
SIZES=${SIZES:-"1000 10000"}
HOLDERS=${HOLDERS:-10}
enable_statement_stats

# seed_fleet DEVICES HOLDERS: for TENANT_ID, bench-stack's token "Main" with HOLDERS active Keynote licences, and
# DEVICES devices with Keynote installed (the first HOLDERS are the licences' serials); SQL, as the plan calls
# no Apple.
seed_fleet() {
  seed_licences "$2"
  psql "$VPP_DATABASE_URL" -q >/dev/null <<SQL
    INSERT INTO devices (tenant_id, serial, installed)
      SELECT '$TENANT_ID', 'SN' || lpad(i::text, 10, '0'), '["408709785"]' FROM generate_series(1, $1) i;
    ANALYZE;
SQL
}

stats() {
  psql "$VPP_TEST_DATABASE_URL" -Atc "SELECT coalesce(sum(calls), 0), coalesce(sum(rows), 0),
      coalesce(sum(rows) FILTER (WHERE query ILIKE '%FROM devices%'), 0)
    FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = '$1'"
}

for size in $SIZES; do
  database="reads_$size"
  new_database "$database"
  bench_tenant bench read-only
  seed_fleet "$size" "$HOLDERS"
  psql "$VPP_TEST_DATABASE_URL" -qAtc "SELECT pg_stat_statements_reset()" >/dev/null
  "$BIN/vppctl" token remove Main --tenant bench >/dev/null
  IFS='|' read -r calls rows device_rows <<<"$(stats "$database")"
  echo "removal plan, $size devices, $HOLDERS holders: $calls statements, $rows rows read ($device_rows from devices)"
done
