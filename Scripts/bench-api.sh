#!/usr/bin/env bash
# Benchmark: requests/s and p99 of `GET /healthz`, `GET /v1/apps` and `GET /v1/licenses?limit=100` in the same
# run, with wrk (32 connections, 2 threads), against one vppd on a throwaway PostgreSQL with vppsim as Apple and a
# tenant seeded with one token, one app and LICENCES (10,000) licences. Authenticated reads use a read-only key
# (its lookup is cached for 5 s, so a steady stream costs no statement for the key).
#
#   Scripts/bench-api.sh                              # release build (the figure for the README)
#   CONFIG=debug DURATION=10s Scripts/bench-api.sh    # a debug build
#   BENCH_BIN=.build/debug Scripts/bench-api.sh       # executables already built
# Needs wrk (Debian: apt-get install -y wrk).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install -y wrk)" >&2; exit 1; }
PRODUCTS="vppd vppctl vppsim"
source Scripts/lib/bench-stack.sh
LICENCES=${LICENCES:-10000}
DURATION=${DURATION:-15s}
CONNECTIONS=${CONNECTIONS:-32}

start_sim
export VPP_APPLE_BASE_URL="$SIM/mdm/v2"
new_database api_bench
bench_tenant bench read-only
seed_licences "$LICENCES"
start_vppd
url=${VPPD_URLS[0]}
for path in /v1/apps "/v1/licenses?limit=100"; do
  status=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $KEY" "$url$path")
  [ "$status" = 200 ] || { log "$path answered $status"; exit 1; }
done

# wrk PATH: requests/s and p99 (and non-2xx answers, which must be none).
measure() {
  local output
  output=$(wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency -H "Authorization: Bearer $KEY" "$url$1")
  local rps p50 p99 errors
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$output")
  p50=$(awk '$1 == "50%" {print $2}' <<<"$output")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$output")
  errors=$(awk '/Non-2xx/ {print $5}' <<<"$output")
  printf '%-24s %10s req/s   p50 %9s   p99 %9s   non-2xx %s\n' "$1" "$rps" "$p50" "$p99" "${errors:-0}"
}
log "CONFIG=$CONFIG, $CONNECTIONS connections, $DURATION each, $LICENCES licences"
wrk -t2 -c"$CONNECTIONS" -d2s -H "Authorization: Bearer $KEY" "$url/v1/licenses?limit=100" >/dev/null  # warm-up
measure /healthz
measure /v1/apps
measure "/v1/licenses?limit=100"
