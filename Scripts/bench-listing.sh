#!/usr/bin/env bash
# Benchmark: `GET /v1/licenses?limit=100`, the first page and a deep one (90 % of the way through), p50 and
# p99 over sequential requests, with 10,000 / 100,000 / 1,000,000 licences in one tenant on PostgreSQL.
# Goal: flat (keyset paging: a deep page costs what the first does), p99 under 20 ms.
#
#   Scripts/bench-listing.sh                          # release build, the three sizes
#   CONFIG=debug SIZES="10000 100000" Scripts/bench-listing.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PRODUCTS="vppd vppctl"
source Scripts/lib/bench-stack.sh
SIZES=${SIZES:-"10000 100000 1000000"}
REQUESTS=${REQUESTS:-300}
export VPP_APPLE_BASE_URL=http://127.0.0.1:9/mdm/v2  # nothing is due: Apple is never called

for size in $SIZES; do
  new_database "listing_$size"
  bench_tenant bench read-only
  # One token synced just now, one app, `size` active licences on it.
  seed_licences "$size"
  deep_id=$(psql "$VPP_DATABASE_URL" -Atc \
    "SELECT assignment_id FROM assignments ORDER BY assignment_id OFFSET $((size * 9 / 10)) LIMIT 1")
  deep="l1.$(printf '%s' "$deep_id" | base64 -w0)"
  start_vppd
  url=${VPPD_URLS[0]}
  latency "warm-up" 50 GET "$url/v1/licenses?limit=100" >/dev/null
  latency "licenses[$(printf '%9d' "$size")] first page" "$REQUESTS" GET "$url/v1/licenses?limit=100"
  latency "licenses[$(printf '%9d' "$size")] deep page " "$REQUESTS" GET "$url/v1/licenses?limit=100&after=$deep"
  latency "licenses[$(printf '%9d' "$size")] by app    " "$REQUESTS" GET \
    "$url/v1/licenses?limit=100&adamId=408709785&after=$deep"
  stop_vppds
done
