#!/usr/bin/env bash
# Benchmark: reconciling a scope over a group of SIZES devices, then one membership change, on PostgreSQL with
# vppsim (its limiter off) and vppctl (which reconciles before it returns). Prints per size: seconds, SQL
# statements (pg_stat_statements) and Apple associate calls for the first reconcile (every device licensed),
# then seconds, statements and rows read for adding one device to the group.
#   SIZES="1000 10000 100000" (default "1000 10000"); CONFIG=debug by default; BENCH_BIN=<folder> reuses a build.
set -euo pipefail
cd "$(dirname "$0")/.."
PRODUCTS="vppctl vppsim"
CONFIG=${CONFIG:-debug}
source Scripts/lib/bench-stack.sh
SIZES=${SIZES:-"1000 10000"}
enable_statement_stats
start_sim
export VPP_APPLE_BASE_URL="$SIM/mdm/v2"

rows_in() {
  psql "$VPP_TEST_DATABASE_URL" -Atc "SELECT coalesce(sum(rows), 0) FROM pg_stat_statements s
    JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = '$1'"
}
associates() { curl -fs "$SIM/sim/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["requests"].get("assets/associate", 0))'; }
seconds() { python3 -c 'import time; print(time.time())'; }

printf '%-8s %10s %11s %14s %12s %14s %12s\n' devices "reconcile s" statements "associate calls" "+1 member s" "+1 statements" "+1 rows read"
for n in $SIZES; do
  db="scopes_$n"
  new_database "$db"
  bench_tenant "bench$n" app-management
  uid=$(curl -fs -X POST "$SIM/sim/locations" -H 'Content-Type: application/json' -d "{\"name\": \"Loc $n\"}" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["uId"])')
  curl -fs -X POST "$SIM/sim/locations/$uid/assets" -H 'Content-Type: application/json' \
    -d "{\"adamId\": \"408709785\", \"totalCount\": $((n + 10))}" >/dev/null
  curl -fs -X POST "$SIM/sim/locations/$uid/tokens" -o "/tmp/bench-scopes-$n.vpptoken"
  "$BIN/vppctl" token upload "/tmp/bench-scopes-$n.vpptoken" --tenant "bench$n" >/dev/null
  "$BIN/vppctl" group set g --tenant "bench$n" >/dev/null
  psql "$VPP_DATABASE_URL" -q >/dev/null <<SQL
    INSERT INTO devices (tenant_id, serial) SELECT '$TENANT_ID', 'SN' || lpad(i::text, 10, '0') FROM generate_series(1, $n + 1) i;
    INSERT INTO group_members (tenant_id, group_name, member, added_at)
      SELECT '$TENANT_ID', 'g', 'serial:SN' || lpad(i::text, 10, '0'), 0 FROM generate_series(1, $n) i;
    ANALYZE;
SQL
  before_calls=$(associates)
  psql "$VPP_TEST_DATABASE_URL" -qc "SELECT pg_stat_statements_reset()" >/dev/null
  start=$(seconds)
  "$BIN/vppctl" scope set s 408709785 --group g --tenant "bench$n" >/dev/null
  reconcile=$(python3 -c "print(f'{$(seconds) - $start:.2f}')")
  statements=$(statements_in "$db")
  calls=$(( $(associates) - before_calls ))
  psql "$VPP_TEST_DATABASE_URL" -qc "SELECT pg_stat_statements_reset()" >/dev/null
  start=$(seconds)
  "$BIN/vppctl" group add g --serial "SN$(printf '%010d' $((n + 1)))" --tenant "bench$n" >/dev/null
  one=$(python3 -c "print(f'{$(seconds) - $start:.2f}')")
  printf '%-8s %10s %11s %14s %12s %14s %12s\n' "$n" "$reconcile" "$statements" "$calls" "$one" \
    "$(statements_in "$db")" "$(rows_in "$db")"
done
