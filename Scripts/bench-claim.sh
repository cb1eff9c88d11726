#!/usr/bin/env bash
# Benchmark: the job queue's claim (16 jobs) against a queue of N due jobs, N = 10,000 and 100,000 (one job per
# tenant, plus one busy tenant with 100 older jobs), on a throwaway PostgreSQL migrated by `vppctl migrate`.
# Prints the median and maximum time of the claim's first pass (EXPLAIN ANALYZE, rolled back, so the queue
# keeps its size) for the statement SQLJobQueue.claim runs ("turns") and, for comparison, the statement it
# replaced, which ranked every due job per claim ("window"). Keep the "turns" text equal to SQLJobQueue.swift.
#
#   Scripts/bench-claim.sh                 # SIZES="10000 100000", release build of vppctl
#   CONFIG=debug SIZES="10000" Scripts/bench-claim.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PRODUCTS="vppctl"
source Scripts/lib/bench-stack.sh
SIZES=${SIZES:-"10000 100000"}
RUNS=${RUNS:-15}
NOW=100000

window_claim="
UPDATE jobs SET lease_owner = 'bench', lease_until = $((NOW + 60000)), attempts = attempts + 1
WHERE (tenant_id, job_id) IN (
    SELECT j.tenant_id, j.job_id FROM jobs j JOIN (
        SELECT tenant_id, job_id, row_number() OVER (PARTITION BY tenant_id ORDER BY run_at) AS turn
        FROM jobs WHERE run_at <= $NOW AND (lease_until IS NULL OR lease_until < $NOW)
    ) due ON due.tenant_id = j.tenant_id AND due.job_id = j.job_id
    WHERE j.run_at <= $NOW AND (j.lease_until IS NULL OR j.lease_until < $NOW)
    ORDER BY due.turn, j.run_at LIMIT 16 FOR UPDATE OF j SKIP LOCKED)
RETURNING tenant_id, job_id, kind, job_key, attempts"

turns_claim="
UPDATE jobs SET lease_owner = 'bench', lease_until = $((NOW + 60000)), attempts = attempts + 1
WHERE (tenant_id, job_id) IN (
    SELECT j.tenant_id, j.job_id FROM jobs j
    WHERE j.run_at <= $NOW AND (j.lease_until IS NULL OR j.lease_until < $NOW)
    AND NOT EXISTS (
        SELECT 1 FROM jobs o
        WHERE o.tenant_id = j.tenant_id AND o.run_at <= j.run_at
        AND (o.run_at < j.run_at OR o.job_id < j.job_id)
        AND (o.lease_until IS NULL OR o.lease_until < $NOW))
    ORDER BY j.run_at LIMIT 16 FOR UPDATE OF j SKIP LOCKED)
RETURNING tenant_id, job_id, kind, job_key, attempts, run_at"

# time_claim NAME SQL: RUNS executions, each in a rolled-back transaction; prints median and max (ms).
time_claim() {
  local name=$1 sql=$2 times=()
  for _ in $(seq "$RUNS"); do
    times+=("$(printf 'BEGIN;\nEXPLAIN (ANALYZE, FORMAT JSON) %s;\nROLLBACK;\n' "$sql" | psql "$DB" -At -q \
      | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Execution Time"])')")
  done
  printf '%s\n' "${times[@]}" | sort -n | python3 -c "
import sys; t = [float(x) for x in sys.stdin]
print(f'claim[$name] $size due jobs: median {t[len(t)//2]:.2f} ms, max {t[-1]:.2f} ms over {len(t)} claims of 16')"
}

for size in $SIZES; do
  DB="${VPP_TEST_DATABASE_URL%/*}/claim_$size"
  psql "$VPP_TEST_DATABASE_URL" -qc "CREATE DATABASE claim_$size"
  "$BIN/vppctl" migrate --database-url "$DB" >/dev/null
  # Jobs need their tenants (a foreign key): one per due job, plus the busy one.
  psql "$DB" -q <<SQL
    INSERT INTO tenants (tenant_id, name, holder_id, holder_name, holder_metadata, created_at)
      SELECT md5('t' || i)::uuid, 'bench-' || i, 'h' || i, 'vpp', 'm', 0 FROM generate_series(0, $size) i;
    INSERT INTO jobs (tenant_id, job_id, kind, job_key, run_at, attempts)
      SELECT md5('t' || i)::uuid, gen_random_uuid(), 'sync', 'token', $NOW - 5000 + (random() * 4000)::int, 0
      FROM generate_series(1, $size) i;
    INSERT INTO jobs (tenant_id, job_id, kind, job_key, run_at, attempts)
      SELECT md5('t0')::uuid, gen_random_uuid(), 'sync', 'busy-' || i, $NOW - 9000 + i, 0
      FROM generate_series(1, 100) i;
    ANALYZE;
SQL
  time_claim window "$window_claim"
  time_claim turns "$turns_claim"
done
