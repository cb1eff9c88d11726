#!/usr/bin/env bash
# Benchmark: N tenants' scheduled syncs all due at once, carried out by two (REPLICAS) vppd replicas against vppsim
# (limiter off), for N = 100 / 1,000 / 10,000 tenants plus one busy tenant with 100 tokens. Prints the time
# until every token has synced and each tenant's wait (from the moment the replicas start to its token's
# sync): p50, p99 and the maximum, and the busy tenant's last token — fairness means no quiet tenant waits
# behind the busy one.
#
#   Scripts/bench-due-syncs.sh                      # release build, the three sizes
#   CONFIG=debug SIZES="100 1000" Scripts/bench-due-syncs.sh
#   REPLICAS=4 SIZES=10000 Scripts/bench-due-syncs.sh      # the job queue and leases with four replicas
#   STATS=1 SIZES=1000 Scripts/bench-due-syncs.sh          # also statements and transactions per token synced,
#                                                           # and the statements that took the most time
set -euo pipefail
cd "$(dirname "$0")/.."
PRODUCTS="vppsim vppd vppctl vppbench"
source Scripts/lib/bench-stack.sh
SIZES=${SIZES:-"100 1000 10000"}
BUSY=${BUSY_TENANT_TOKENS:-100}
TIMEOUT=${TIMEOUT_SECONDS:-1800}
REPLICAS=${REPLICAS:-2}
start_sim
export VPP_APPLE_BASE_URL="$SIM/mdm/v2"
[ "${STATS:-0}" = 1 ] && enable_statement_stats

# where_time_went DB TOKENS XACTS_BEFORE: statements and transactions per token synced, and the statements that
# took the most database time (pg_stat_statements, reset when the replicas start).
where_time_went() {
  local xacts; xacts=$(psql "$VPP_TEST_DATABASE_URL" -Atc \
    "SELECT xact_commit + xact_rollback - $3 FROM pg_stat_database WHERE datname = '$1'")
  echo "due-syncs: per token synced: $(python3 -c "print(f'{$(statements_in "$1") / $2:.1f} statements, {$xacts / $2:.1f} transactions')")"
  echo "due-syncs: the statements that took the most time (total s, calls per token, mean ms, query):"
  psql "$VPP_TEST_DATABASE_URL" -Atc "SELECT round(total_exec_time::numeric / 1000, 1) || ' | '
      || round(calls::numeric / $2, 2) || ' | ' || round(mean_exec_time::numeric, 3)
      || ' | ' || left(regexp_replace(query, '\s+', ' ', 'g'), 110)
    FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = '$1'
    ORDER BY total_exec_time DESC LIMIT ${TOP:-15}" | sed 's/^/  /'
}

for size in $SIZES; do
  new_database "due_$size"
  "$BIN/vppbench" seed-fleet --simulator "$SIM" --database-url "$VPP_DATABASE_URL" --tenants "$size" \
    --busy-tenant-tokens "$BUSY" >&2
  # Every token last synced seven hours ago: all due now (the default interval is six hours).
  psql "$VPP_DATABASE_URL" -q >/dev/null <<SQL
    DELETE FROM token_sync;
    INSERT INTO token_sync (tenant_id, token_id, last_success_at, last_attempt_at, failures)
      SELECT tenant_id, token_id, (extract(epoch from now() - interval '7 hours') * 1000)::bigint,
             (extract(epoch from now() - interval '7 hours') * 1000)::bigint, 0 FROM tokens;
    ANALYZE;
SQL
  total=$(psql "$VPP_DATABASE_URL" -Atc "SELECT count(*) FROM tokens")
  start_ms=$(psql "$VPP_DATABASE_URL" -Atc "SELECT (extract(epoch from now()) * 1000)::bigint")
  if [ "${STATS:-0}" = 1 ]; then
    psql "$VPP_TEST_DATABASE_URL" -qAtc "SELECT pg_stat_statements_reset()" >/dev/null
    xacts_before=$(psql "$VPP_TEST_DATABASE_URL" -Atc \
      "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = 'due_$size'")
  fi
  cpu_before=("$(cpu_seconds $(postgres_pids))" "$(cpu_seconds "$SIM_PID")")
  for _ in $(seq "$REPLICAS"); do start_vppd; done
  waited=0
  while :; do
    done_count=$(psql "$VPP_DATABASE_URL" -Atc "SELECT count(*) FROM token_sync WHERE last_success_at >= $start_ms")
    [ "$done_count" -ge "$total" ] && break
    if [ "$waited" -ge "$TIMEOUT" ]; then log "timed out: $done_count of $total synced"; break; fi
    sleep 1; waited=$((waited + 1))
  done
  psql "$VPP_DATABASE_URL" -At <<SQL | python3 Scripts/lib/due_syncs_summary.py "$size" "$BUSY" "$total" "$REPLICAS"
    SELECT t.name = 'fleet-busy', s.last_success_at - $start_ms
    FROM token_sync s JOIN tenants t USING (tenant_id) WHERE s.last_success_at >= $start_ms
SQL
  python3 -c "print(f'due-syncs: CPU ms per token synced: vppd replicas {$(cpu_seconds "${VPPD_PIDS[@]}") * 1000 / $total:.1f}, '
    f'PostgreSQL {($(cpu_seconds $(postgres_pids)) - ${cpu_before[0]}) * 1000 / $total:.1f}, '
    f'vppsim {($(cpu_seconds "$SIM_PID") - ${cpu_before[1]}) * 1000 / $total:.1f}')"
  [ "${STATS:-0}" = 1 ] && where_time_went "due_$size" "$total" "$xacts_before"
  stop_vppds
done
