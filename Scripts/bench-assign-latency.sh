#!/usr/bin/env bash
# Benchmark: assigning one app to one device through the REST API, p50 and p99 over sequential requests,
# in tenants of 1,000 / 10,000 / 100,000 devices (vppsim behind, limiter off; vppd answers once the
# licence is reserved and its intent pump sends to Apple meanwhile). Goal: flat — an assignment reads the
# devices it names, not the tenant's inventory.
#
#   Scripts/bench-assign-latency.sh                  # release build, the three sizes
#   CONFIG=debug SIZES="1000 10000" Scripts/bench-assign-latency.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PRODUCTS="vppsim vppd vppctl"
source Scripts/lib/bench-stack.sh
SIZES=${SIZES:-"1000 10000 100000"}
REQUESTS=${REQUESTS:-300}
start_sim
export VPP_APPLE_BASE_URL="$SIM/mdm/v2"

for size in $SIZES; do
  new_database "assign_$size"
  bench_tenant bench app-management
  # The tenant's devices, seeded in SQL (the API would take minutes at 100,000).
  psql "$VPP_DATABASE_URL" -qc "INSERT INTO devices (tenant_id, serial)
    SELECT '$TENANT_ID', 'DEV' || lpad(i::text, 7, '0') FROM generate_series(0, $size - 1) i; ANALYZE;" >/dev/null
  uid=$(curl -fs -X POST "$SIM/sim/locations" -H 'Content-Type: application/json' -d "{\"name\":\"Bench $size\"}" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["uId"])')
  curl -fs -X POST "$SIM/sim/locations/$uid/assets" -H 'Content-Type: application/json' \
    -d "{\"adamId\":\"408709785\",\"totalCount\":$((REQUESTS + 100))}" >/dev/null
  token=$(curl -fs -X POST "$SIM/sim/locations/$uid/tokens")
  start_vppd
  url=${VPPD_URLS[0]}
  python3 -c 'import json,sys; print(json.dumps({"token": sys.argv[1]}))' "$token" \
    | curl -fs -X POST "$url/v1/tokens" -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' -d @- \
      >/dev/null
  for _ in $(seq 300); do  # the upload's first sync runs in the background
    curl -fs "$url/v1/apps" -H "Authorization: Bearer $KEY" | grep -q 408709785 && break; sleep 0.2
  done
  latency "assign one device[$(printf '%7d' "$size") devices]" "$REQUESTS" POST "$url/v1/apps/408709785/licenses" \
    '{"serialNumbers": ["DEV{i}"]}'
  stop_vppds
done
