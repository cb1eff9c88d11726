#!/usr/bin/env bash
# Benchmark: vpp inside an MDM deployment, real processes on PostgreSQL (vppsim, mdmsim, one vppd).
#   1. a burst of DEVICES enrollments (Authenticate + TokenUpdate each, signed) posted by mdmsim to vppd's
#      MDM webhook, 32 at a time: webhook events accepted per second, then until all are in the inventory;
#   2. one assignment of an app to every device: InstallApplication commands delivered to mdmsim per second.
# Prints vppd's peak RSS. DEVICES=10000 by default; CONFIG=release for optimised binaries (default debug).
set -euo pipefail
cd "$(dirname "$0")/.."
log() { printf '[bench] %s\n' "$*" >&2; }
CONFIG=${CONFIG:-debug}
DEVICES=${DEVICES:-10000}
for product in vppsim mdmsim vppd vppctl; do swift build -c "$CONFIG" --product "$product" 2>&1 | grep -E "error" || true; done
BIN=$(swift build -c "$CONFIG" --show-bin-path)
source Scripts/lib/throwaway-postgres.sh
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
WORK=$(mktemp -d /tmp/vpp-bench-mdm.XXXXXX)
SIM_PORT=$(free_port); MDM_PORT=$(free_port); VPPD_PORT=$(free_port)
head -c 24 /dev/urandom | base64 > "$WORK/api.key"; head -c 24 /dev/urandom | base64 > "$WORK/hmac.key"
PIDS=()
stop_all() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for _ in $(seq 50); do alive=0; for p in "${PIDS[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done; [ $alive = 0 ] && break; sleep 0.2; done
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  stop_postgres; rm -rf "$WORK"
}
trap stop_all EXIT
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
enrolled() { curl -fs -H "$AUTH" "$API/v1/devices" | json 'sum(1 for x in d if x.get("enrollment") == "enrolled")'; }

log "burst: $DEVICES enrollments ($((DEVICES * 2)) signed webhook events) from mdmsim"
START=$(now)
BURST=$(curl -fs -X POST "http://127.0.0.1:$MDM_PORT/sim/devices" -d "{\"count\": $DEVICES, \"serialPrefix\": \"B\"}")
SECONDS_POSTED=$(echo "$BURST" | json 'd["seconds"]')
echo "$BURST" | json '"\n".join(x["serialNumber"] for x in d["devices"])' > "$WORK/serials"
FAILED=$(curl -fs "http://127.0.0.1:$MDM_PORT/sim/stats" | json 'd["webhooksFailed"]')
until [ "$(enrolled)" -ge "$DEVICES" ]; do sleep 1; done
SECONDS_ENROLLED=$(python3 -c "print($(now) - $START)")
python3 -c "print(f'webhook events accepted: {2*$DEVICES/$SECONDS_POSTED:.0f}/s ({2*$DEVICES} events in {$SECONDS_POSTED:.1f} s, {$FAILED} not answered 200)')"
python3 -c "print(f'enrollments processed into the inventory: {$DEVICES/$SECONDS_ENROLLED:.0f}/s ({$DEVICES} devices in {$SECONDS_ENROLLED:.1f} s)')"

log "assignment of one app to $DEVICES devices; commands delivered to mdmsim"
UID_=$(curl -fs -X POST "http://127.0.0.1:$SIM_PORT/sim/locations" -d '{"name": "Bench"}' | json 'd["uId"]')
curl -fs -X POST "http://127.0.0.1:$SIM_PORT/sim/locations/$UID_/assets" -d "{\"adamId\": \"408709785\", \"totalCount\": $DEVICES}" >/dev/null
TOKEN=$(curl -fs -X POST "http://127.0.0.1:$SIM_PORT/sim/locations/$UID_/tokens")
TOKEN_ID=$(python3 -c "import json; print(json.dumps({'token': '''$TOKEN'''.strip()}))" | curl -fs -X POST -H "$AUTH" -H 'Content-Type: application/json' --data-binary @- "$API/v1/tokens" | json 'd["token"]["id"]')
curl -fs -X POST -H "$AUTH" "$API/v1/tokens/$TOKEN_ID/sync" >/dev/null
python3 -c "import json; print(json.dumps({'serialNumbers': open('$WORK/serials').read().split()}))" > "$WORK/assign.json"
queued() { curl -fs -H "$AUTH" "$API/v1/mdm" | json 'd["commands"]["queued"]'; }
sent() { curl -fs "http://127.0.0.1:$MDM_PORT/sim/stats" | json 'd["commandsQueued"]'; }
START=$(now)
curl -fs -X POST -H "$AUTH" -H 'Content-Type: application/json' --data-binary @"$WORK/assign.json" "$API/v1/apps/408709785/licenses" >/dev/null
FIRST=""
until [ "$(sent)" -ge "$DEVICES" ]; do
  if [ -z "$FIRST" ] && [ "$(sent)" -gt 0 ]; then FIRST=$(now); fi
  sleep 0.5
done
END=$(now); FIRST=${FIRST:-$START}
python3 -c "print(f'commands delivered to mdmsim: {$DEVICES/max($END-$FIRST, 0.001):.0f}/s from the first delivery ({$DEVICES} in {$END-$FIRST:.1f} s; {$END-$START:.1f} s from the assignment request, Apple confirmation included)')"
RSS=$(awk '/VmHWM/ {print $2}' "/proc/$VPPD/status")
echo "vppd peak RSS: $((RSS / 1024)) MiB (config $CONFIG, $DEVICES devices)"
