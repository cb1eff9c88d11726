#!/usr/bin/env bash
# Benchmark: vpp inside an MDM deployment, real processes on PostgreSQL (vppsim, mdmsim, one vppd).
#   1. a burst of DEVICES enrollments (Authenticate + TokenUpdate each, signed) posted by mdmsim to vppd's
#      MDM webhook, 32 at a time: webhook events accepted per second, then until all are in the inventory;
#   2. one assignment of an app to every device: InstallApplication commands delivered to mdmsim per second.
# For each size in SIZES (default "1000 3000 10000"; DEVICES=n means SIZES=n), new devices, so growth shows.
# Prints vppd's peak RSS. CONFIG=release for optimised binaries (default debug); BENCH_BIN=dir: binaries built already.
set -euo pipefail
cd "$(dirname "$0")/.."
log() { printf '[bench] %s\n' "$*" >&2; }
CONFIG=${CONFIG:-debug}
SIZES=${SIZES:-${DEVICES:-"1000 3000 10000"}}
if [ -n "${BENCH_BIN:-}" ]; then  # binaries built already (a copy, so a build running meanwhile cannot swap them)
  BIN=$BENCH_BIN
else
  for product in vppsim mdmsim vppd vppctl; do swift build -c "$CONFIG" --product "$product" 2>&1 | grep -E "error" || true; done
  BIN=$(swift build -c "$CONFIG" --show-bin-path)
fi
source Scripts/lib/throwaway-postgres.sh
BENCH_NAME=mdm source Scripts/lib/mdm-bench-stack.sh
"$BIN/vppsim" serve --port "$SIM_PORT" --rate-limit 0 --log-level error & PIDS+=($!)
"$BIN/mdmsim" serve --port "$MDM_PORT" --api-key-file "$WORK/api.key" --hmac-key-file "$WORK/hmac.key" --log-level error & PIDS+=($!)
export VPP_DATABASE_URL="$VPP_TEST_DATABASE_URL" VPP_ENCRYPTION_KEY=$(head -c 32 /dev/urandom | base64) VPP_LOG_LEVEL=error \
  VPP_APPLE_BASE_URL="http://127.0.0.1:$SIM_PORT/mdm/v2" VPP_PUBLIC_URL="http://127.0.0.1:$VPPD_PORT" \
  VPP_OUTBOUND_ALLOW="127.0.0.1:$MDM_PORT"  # mdmsim is on loopback, over plain http: allowed by the operator
"$BIN/vppctl" migrate >/dev/null
"$BIN/vppctl" tenant create bench >/dev/null
export VPP_TENANT=bench
KEY=$("$BIN/vppctl" apikey create --role mdm-admin)
"$BIN/vppctl" mdm connect nanomdm --url "http://127.0.0.1:$MDM_PORT" --api-key-file "$WORK/api.key" --hmac-key-file "$WORK/hmac.key" >/dev/null
HOOK=$("$BIN/vppctl" mdm show --json | json 'd["webhookURL"]')
"$BIN/vppd" serve --port "$VPPD_PORT" & VPPD=$!; PIDS+=($VPPD)
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$VPPD_PORT/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$MDM_PORT/sim/stats" >/dev/null 2>&1 && break; sleep 0.1; done
curl -fs -X PUT "http://127.0.0.1:$MDM_PORT/sim/config" -d "{\"webhookURL\": \"$HOOK\"}" >/dev/null
API="http://127.0.0.1:$VPPD_PORT"; AUTH="Authorization: Bearer $KEY"
now() { python3 -c 'import time; print(time.time())'; }
# GET /v1/devices is paged (1,000 a page): count every page, or the wait never ends above 1,000 devices.
states() { python3 Scripts/lib/device-states.py "$API" "$KEY" "$1" "${2:-enrolled}"; }
mdmstat() { curl -fs "http://127.0.0.1:$MDM_PORT/sim/stats" | json "d[\"$1\"]"; }

TOTAL=0; for size in $SIZES; do TOTAL=$((TOTAL + size)); done
UID_=$(curl -fs -X POST "http://127.0.0.1:$SIM_PORT/sim/locations" -d '{"name": "Bench"}' | json 'd["uId"]')
curl -fs -X POST "http://127.0.0.1:$SIM_PORT/sim/locations/$UID_/assets" -d "{\"adamId\": \"408709785\", \"totalCount\": $TOTAL}" >/dev/null
TOKEN=$(curl -fs -X POST "http://127.0.0.1:$SIM_PORT/sim/locations/$UID_/tokens")
TOKEN_ID=$(python3 -c "import json; print(json.dumps({'token': '''$TOKEN'''.strip()}))" | curl -fs -X POST -H "$AUTH" -H 'Content-Type: application/json' --data-binary @- "$API/v1/tokens" | json 'd["token"]["id"]')
curl -fs -X POST -H "$AUTH" "$API/v1/tokens/$TOKEN_ID/sync" >/dev/null

ROUND=0
for DEVICES in $SIZES; do
  ROUND=$((ROUND + 1)); PREFIX="B$ROUND"
  log "burst: $DEVICES enrollments ($((DEVICES * 2)) signed webhook events) from mdmsim, serials $PREFIX…"
  FAILED0=$(mdmstat webhooksFailed)
  START=$(now)
  BURST=$(curl -fs -X POST "http://127.0.0.1:$MDM_PORT/sim/devices" -d "{\"count\": $DEVICES, \"serialPrefix\": \"$PREFIX\"}")
  SECONDS_POSTED=$(echo "$BURST" | json 'd["seconds"]')
  echo "$BURST" | json '"\n".join(x["serialNumber"] for x in d["devices"])' > "$WORK/serials"
  FAILED=$(( $(mdmstat webhooksFailed) - FAILED0 ))
  # Until every device of the burst is enrolled, or none more for 120 s (then the states say what is left).
  LAST=-1; LAST_AT=$(date +%s)
  while :; do
    N=$(states "$PREFIX")
    [ "$N" -ge "$DEVICES" ] && break
    if [ "$N" != "$LAST" ]; then LAST=$N; LAST_AT=$(date +%s); fi
    if [ $(( $(date +%s) - LAST_AT )) -gt 120 ]; then
      log "no progress for 120 s: $N of $DEVICES enrolled; by state: $(states "$PREFIX" all); events ignored:"
      "$PG_BIN/psql" "$VPP_TEST_DATABASE_URL" -Atqc "SELECT topic, regexp_replace(detail, '[0-9A-Fa-f-]{16,}', '…', 'g'),
        count(*) FROM mdm_events WHERE state = 'ignored' GROUP BY 1, 2" >&2
      break
    fi
    sleep 1
  done
  ENROLLED=$N
  SECONDS_ENROLLED=$(python3 -c "print($(now) - $START)")
  python3 -c "print(f'$DEVICES devices: webhook events accepted {2*$DEVICES/$SECONDS_POSTED:.0f}/s ({2*$DEVICES} events in {$SECONDS_POSTED:.1f} s, {$FAILED} not answered 200)')"
  python3 -c "print(f'$DEVICES devices: enrollments processed into the inventory {$ENROLLED/$SECONDS_ENROLLED:.0f}/s ({$ENROLLED} of $DEVICES enrolled in {$SECONDS_ENROLLED:.1f} s)')"

  log "assignment of one app to $DEVICES devices; commands delivered to mdmsim"
  python3 -c "import json; print(json.dumps({'serialNumbers': open('$WORK/serials').read().split()}))" > "$WORK/assign.json"
  # InstallApplication commands mdmsim holds for this round's devices (its commandsQueued also counts the
  # InstalledApplicationList commands that follow each acknowledgement).
  sent() {
    curl -fs "http://127.0.0.1:$MDM_PORT/sim/devices" | python3 -c "import json, sys
print(sum(1 for d in json.load(sys.stdin) if d['serialNumber'].startswith('$PREFIX')
          and any(c['requestType'] == 'InstallApplication' for c in d['commands'])))"
  }
  START=$(now)
  curl -fs -X POST -H "$AUTH" -H 'Content-Type: application/json' --data-binary @"$WORK/assign.json" "$API/v1/apps/408709785/licenses" >/dev/null
  FIRST=""; DEADLINE=$(( $(date +%s) + 1800 ))
  # Only enrolled devices can be sent a command.
  while :; do
    SENT=$(sent)
    [ "$SENT" -ge "$ENROLLED" ] && break
    if [ -z "$FIRST" ] && [ "$SENT" -gt 0 ]; then FIRST=$(now); fi
    if [ "$(date +%s)" -gt "$DEADLINE" ]; then log "gave up after 30 minutes: $SENT of $ENROLLED delivered"; break; fi
    sleep 1
  done
  END=$(now); FIRST=${FIRST:-$START}
  python3 -c "print(f'$DEVICES devices: commands delivered to mdmsim {$SENT/max($END-$FIRST, 0.001):.0f}/s from the first delivery ({$SENT} in {$END-$FIRST:.1f} s; {$END-$START:.1f} s from the assignment request, Apple confirmation included)')"
done
RSS=$(awk '/VmHWM/ {print $2}' "/proc/$VPPD/status")
echo "vppd peak RSS: $((RSS / 1024)) MiB (config $CONFIG, sizes $SIZES)"
