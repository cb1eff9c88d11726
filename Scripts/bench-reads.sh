#!/usr/bin/env bash
# Benchmark: rows the database hands back on two paths that used to read a whole table, at SIZES (pg_stat_statements,
# throwaway PostgreSQL):
#   1. planning a token's removal (`vppctl token remove`, which only shows the plan without --yes) in tenants of
#      SIZES devices of which HOLDERS hold the token's licences (it read every device; now the holders): the
#      statements and rows of the whole vppctl run, and the rows of its statements on `devices`;
#   2. one page of the MDM pull API (`GET /v1/device-commands?limit=100`, each command with its plist) in a
#      catalogue of SIZES apps, 100 RemoveApplication commands queued (it read every app to find bundle ids; now
#      the page's apps): rows of the statements on `apps` (vppd's idle workers read none).
# SIZES="1000 10000", HOLDERS=10 by default. CONFIG=debug by default; BENCH_BIN=<folder holding vppctl and vppd>
# measures another build (e.g. one built before this change, to compare).
set -euo pipefail
cd "$(dirname "$0")/.."
PRODUCTS="vppctl vppd"
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

# seed_commands APPS COMMANDS: for TENANT_ID, APPS apps with metadata (bundle ids) and COMMANDS RemoveApplication
# commands queued for tomorrow (so no worker claims them), each for another app.
seed_commands() {
  psql "$VPP_DATABASE_URL" -q >/dev/null <<SQL
    INSERT INTO apps (tenant_id, adam_id, pricing, product_type, device_assignable, revocable, name, bundle_id)
      SELECT '$TENANT_ID', (600000 + i)::text, 'STDQ', 'App', true, true, 'App ' || i, 'com.example.app' || i
      FROM generate_series(1, $1) i;
    INSERT INTO device_commands (tenant_id, command_id, serial, kind, adam_id, created_at, next_attempt_at)
      SELECT '$TENANT_ID', md5('c' || i)::uuid, 'SN' || lpad(i::text, 10, '0'), 'RemoveApplication',
             (600000 + i)::text, (extract(epoch from now()) * 1000)::bigint + i,
             (extract(epoch from now()) * 1000)::bigint + 86400000
      FROM generate_series(1, $2) i;
    ANALYZE;
SQL
}

stats() {
  psql "$VPP_TEST_DATABASE_URL" -Atc "SELECT coalesce(sum(calls), 0), coalesce(sum(rows), 0),
      coalesce(sum(rows) FILTER (WHERE query ILIKE '%FROM devices%'), 0),
      coalesce(sum(rows) FILTER (WHERE query ILIKE '%FROM apps%'), 0)
    FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = '$1'"
}

for size in $SIZES; do
  database="reads_$size"
  new_database "$database"
  bench_tenant bench read-only
  seed_fleet "$size" "$HOLDERS"
  psql "$VPP_TEST_DATABASE_URL" -qAtc "SELECT pg_stat_statements_reset()" >/dev/null
  "$BIN/vppctl" token remove Main --tenant bench >/dev/null
  IFS='|' read -r calls rows device_rows _ <<<"$(stats "$database")"
  echo "removal plan, $size devices, $HOLDERS holders: $calls statements, $rows rows read ($device_rows from devices)"
done

for size in $SIZES; do
  database="commands_$size"
  new_database "$database"
  bench_tenant bench read-only
  seed_commands "$size" 100
  start_vppd
  psql "$VPP_TEST_DATABASE_URL" -qAtc "SELECT pg_stat_statements_reset()" >/dev/null
  listed=$(curl -fs -H "Authorization: Bearer $KEY" "${VPPD_URLS[0]}/v1/device-commands?limit=100" \
    | python3 -c 'import json,sys; d=json.load(sys.stdin); print(sum(1 for c in d["commands"] if c.get("plist")))')
  IFS='|' read -r _ _ _ app_rows <<<"$(stats "$database")"
  echo "pull API page, $size apps, 100 commands ($listed with a plist): $app_rows rows read from apps"
  stop_vppds
done
