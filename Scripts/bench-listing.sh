#!/usr/bin/env bash
# Benchmark: `GET /v1/licenses?limit=100`, the first page and a deep one (90 % of the way through), p50 and
# p99 over sequential requests, with 10,000 / 100,000 / 1,000,000 licences in one tenant on PostgreSQL.
# Goal: flat (keyset paging: a deep page costs what the first does), p99 under 20 ms.
# Also (issue 26): the sorted orders' pages (`sort=state` for licences, `sort=name` for as many devices, first and
# deep), and the cost of the total the console shows on every page of these lists: the count(*) over the
# listing's filter, timed alone with pgbench (mean latency of COUNT_RUNS runs).
#
#   Scripts/bench-listing.sh                          # release build, the three sizes
#   CONFIG=debug SIZES="10000 100000" Scripts/bench-listing.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PRODUCTS="vppd vppctl"
source Scripts/lib/bench-stack.sh
SIZES=${SIZES:-"10000 100000 1000000"}
REQUESTS=${REQUESTS:-300}
COUNT_RUNS=${COUNT_RUNS:-200}

# count_cost LABEL SQL: the mean latency of SQL over COUNT_RUNS runs on one connection (pgbench, no vppd).
count_cost() {
  local file; file=$(mktemp /tmp/bench-count.XXXXXX.sql)
  printf '%s;\n' "$2" >"$file"
  local mean
  mean=$("$PG_BIN/pgbench" -n -t "$COUNT_RUNS" -f "$file" "$VPP_DATABASE_URL" 2>/dev/null \
    | awk '/latency average/ {print $4}')
  rm -f "$file"
  printf '%s: %s ms per count (pgbench, %s runs)\n' "$1" "$mean" "$COUNT_RUNS"
}

# sorted_cursor PREFIX ORDER VALUE KEY: a sorted listing's cursor (Modules/VPPUseCases/Views/ListingSort.swift).
sorted_cursor() {
  python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' \
    "$1$(printf '{"k":"%s","s":"%s","text":"%s"}' "$4" "$2" "$3" | base64 -w0)"
}
export VPP_APPLE_BASE_URL=http://127.0.0.1:9/mdm/v2  # nothing is due: Apple is never called

for size in $SIZES; do
  new_database "listing_$size"
  bench_tenant bench read-only
  # One token synced just now, one app, `size` active licences on it.
  seed_licences "$size"
  # As many devices (their names repeat: 100 carts), for the device list's order by name and its count.
  psql "$VPP_DATABASE_URL" -q >/dev/null <<SQL
    INSERT INTO devices (tenant_id, serial, name)
      SELECT '$TENANT_ID', 'SN' || lpad(i::text, 10, '0'), 'Cart ' || lpad((i % 100)::text, 3, '0')
      FROM generate_series(1, $size) i;
    ANALYZE;
SQL
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
  # Sorted orders: a keyset per order (no index on the sort columns: a sort over the filter's rows).
  deep_state=$(psql "$VPP_DATABASE_URL" -Atc \
    "SELECT assignment_id FROM assignments ORDER BY state, assignment_id OFFSET $((size * 9 / 10)) LIMIT 1")
  deep_name=$(psql "$VPP_DATABASE_URL" -Atc \
    "SELECT name || '|' || serial FROM devices ORDER BY name, serial OFFSET $((size * 9 / 10)) LIMIT 1")
  state_cursor=$(sorted_cursor l2. state active "$deep_state")
  name_cursor=$(sorted_cursor d2. name "${deep_name%%|*}" "${deep_name##*|}")
  latency "licenses[$(printf '%9d' "$size")] sort=state first" "$REQUESTS" GET \
    "$url/v1/licenses?limit=50&adamId=408709785&sort=state"
  latency "licenses[$(printf '%9d' "$size")] sort=state deep " "$REQUESTS" GET \
    "$url/v1/licenses?limit=50&adamId=408709785&sort=state&after=$state_cursor"
  latency "devices [$(printf '%9d' "$size")] sort=name first " "$REQUESTS" GET "$url/v1/devices?limit=50&sort=name"
  latency "devices [$(printf '%9d' "$size")] sort=name deep  " "$REQUESTS" GET \
    "$url/v1/devices?limit=50&sort=name&after=$name_cursor"
  latency "devices [$(printf '%9d' "$size")] serial first    " "$REQUESTS" GET "$url/v1/devices?limit=50"
  # The console's totals: the statements Catalogue.licenceCount and deviceCount run (as the superuser: no
  # row-level security, which the tenant's own role adds).
  count_cost "count[$(printf '%9d' "$size")] licences of one app" \
    "SELECT count(*) AS n FROM assignments WHERE tenant_id = '$TENANT_ID' AND adam_id = '408709785' AND pricing = 'STDQ'"
  count_cost "count[$(printf '%9d' "$size")] devices (with retired)" \
    "SELECT count(*) AS n FROM devices WHERE tenant_id = '$TENANT_ID' AND true"
  count_cost "count[$(printf '%9d' "$size")] devices, search 'cart 07'" \
    "SELECT count(*) AS n FROM devices WHERE tenant_id = '$TENANT_ID' AND (lower(serial) LIKE '%cart 07%' OR lower(coalesce(name, '')) LIKE '%cart 07%')"
  stop_vppds
done
