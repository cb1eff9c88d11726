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
  stop_vppds
done
