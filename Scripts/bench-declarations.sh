#!/usr/bin/env bash
# Benchmark: apps by declaration, real processes on PostgreSQL (vppsim, mdmsim with its KMFDDM API, one vppd).
# For each size in SIZES (default "1000 3000 10000"), that many new devices enroll through mdmsim's webhook, then
# one assignment of the app to all of them; vpp carries out a join per Apple-confirmed licence at mdmsim's KMFDDM
# API, each device asks vppsim for its licence, installs, and posts its status report to vpp. Prints:
#   - set changes (joins) per second at the DDM server, from the first to the last;
#   - declaration PUTs per second over the same window (vpp stores the app's declaration before each batch's
#     set changes; KMFDDM answers the repeats 304);
#   - status reports ingested per second (answered 2xx by vppd's POST /v1/device-status), from first to last.
# CONFIG=release for optimised binaries (default debug).
set -euo pipefail
cd "$(dirname "$0")/.."
log() { printf '[bench] %s\n' "$*" >&2; }
CONFIG=${CONFIG:-debug}
SIZES=${SIZES:-"1000 3000 10000"}
for product in vppsim mdmsim vppd vppctl; do swift build -c "$CONFIG" --product "$product" 2>&1 | grep -E "error" || true; done
BIN=$(swift build -c "$CONFIG" --show-bin-path)
source Scripts/lib/throwaway-postgres.sh
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
WORK=$(mktemp -d /tmp/vpp-bench-ddm.XXXXXX)
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
MDM="http://127.0.0.1:$MDM_PORT"; SIM="http://127.0.0.1:$SIM_PORT"; API="http://127.0.0.1:$VPPD_PORT"
"$BIN/vppsim" serve --port "$SIM_PORT" --rate-limit 0 --log-level error & PIDS+=($!)
"$BIN/mdmsim" serve --port "$MDM_PORT" --api-key-file "$WORK/api.key" --hmac-key-file "$WORK/hmac.key" \
  --vppsim-url "$SIM" --status-url "$API" --evaluation-delay-ms 100 --log-level error & PIDS+=($!)
export VPP_DATABASE_URL="$VPP_TEST_DATABASE_URL" VPP_ENCRYPTION_KEY=$(head -c 32 /dev/urandom | base64) VPP_LOG_LEVEL=error \
  VPP_APPLE_BASE_URL="$SIM/mdm/v2" VPP_PUBLIC_URL="$API" \
  VPP_OUTBOUND_ALLOW="127.0.0.1:$MDM_PORT"  # mdmsim is on loopback, over plain http: allowed by the operator
"$BIN/vppctl" migrate >/dev/null
"$BIN/vppctl" tenant create bench >/dev/null
export VPP_TENANT=bench
KEY=$("$BIN/vppctl" apikey create --role mdm-admin)
"$BIN/vppctl" mdm connect nanomdm --url "$MDM" --api-key-file "$WORK/api.key" --hmac-key-file "$WORK/hmac.key" >/dev/null
"$BIN/vppctl" mdm declarations kmfddm --url "$MDM" --api-key-file "$WORK/api.key" >/dev/null
"$BIN/vppctl" mdm delivery declarations >/dev/null
HOOK=$("$BIN/vppctl" mdm show --json | json 'd["webhookURL"]')
"$BIN/vppd" serve --port "$VPPD_PORT" & VPPD=$!; PIDS+=($VPPD)
for _ in $(seq 100); do curl -fs "$API/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
for _ in $(seq 100); do curl -fs "$MDM/sim/stats" >/dev/null 2>&1 && break; sleep 0.1; done
curl -fs -X PUT "$MDM/sim/config" -d "{\"webhookURL\": \"$HOOK\"}" >/dev/null
curl -fs -X PUT "$MDM/sim/ddm/config" -d "{\"statusAPIKey\": \"$KEY\"}" >/dev/null
AUTH="Authorization: Bearer $KEY"
now() { python3 -c 'import time; print(time.time())'; }
# GET /v1/devices is paged: follow the Link header's next page.
enrolled() { python3 - "$API" "$KEY" <<'PY'
import json, re, sys, urllib.request
api, key = sys.argv[1], sys.argv[2]
url, count = api + "/v1/devices", 0
while url:
    answer = urllib.request.urlopen(urllib.request.Request(url, headers={"Authorization": "Bearer " + key}))
    count += sum(1 for x in json.load(answer) if x.get("enrollment") == "enrolled")
    found = re.search(r'<([^>]+)>;\s*rel="next"', answer.headers.get("Link") or "")
    url = None if not found else (api + found.group(1) if found.group(1).startswith("/") else found.group(1))
print(count)
PY
}
stat() { curl -fs "$MDM/sim/ddm/stats" | json "d[\"$1\"]"; }

TOTAL=0; for size in $SIZES; do TOTAL=$((TOTAL + size)); done
UID_=$(curl -fs -X POST "$SIM/sim/locations" -d '{"name": "Bench"}' | json 'd["uId"]')
curl -fs -X POST "$SIM/sim/locations/$UID_/assets" -d "{\"adamId\": \"408709785\", \"totalCount\": $TOTAL}" >/dev/null
TOKEN=$(curl -fs -X POST "$SIM/sim/locations/$UID_/tokens")
TOKEN_ID=$(python3 -c "import json; print(json.dumps({'token': '''$TOKEN'''.strip()}))" | curl -fs -X POST -H "$AUTH" -H 'Content-Type: application/json' --data-binary @- "$API/v1/tokens" | json 'd["token"]["id"]')
curl -fs -X POST -H "$AUTH" "$API/v1/tokens/$TOKEN_ID/sync" >/dev/null

ENROLLED=0; ROUND=0
for SIZE in $SIZES; do
  ROUND=$((ROUND + 1))
  log "$SIZE devices enroll (prefix D$ROUND)"
  curl -fs -X POST "$MDM/sim/devices" -d "{\"count\": $SIZE, \"serialPrefix\": \"D$ROUND\"}" \
    | json '"\n".join(x["serialNumber"] for x in d["devices"])' > "$WORK/serials"
  ENROLLED=$((ENROLLED + SIZE))
  until [ "$(enrolled)" -ge "$ENROLLED" ]; do sleep 3; done
  python3 -c "import json; print(json.dumps({'serialNumbers': open('$WORK/serials').read().split()}))" > "$WORK/assign.json"
  JOINS0=$(stat setChanges); PUTS0=$(( $(stat declarationsStored) + $(stat declarationsUnchanged) ))
  SENT0=$(stat reportsSent); FAILED0=$(stat reportsFailed); NOTFOUND0=$(stat licenceNotFound)
  log "one assignment of the app to $SIZE devices"
  START=$(now)
  curl -fs -X POST -H "$AUTH" -H 'Content-Type: application/json' --data-binary @"$WORK/assign.json" \
    "$API/v1/apps/408709785/licenses" >/dev/null
  FIRST_JOIN=""; LAST_JOIN=""; FIRST_REPORT=""; LAST_REPORT=""; DEADLINE=$(( $(date +%s) + 1800 ))
  while :; do
    S=$(curl -fs "$MDM/sim/ddm/stats")
    J=$(( $(echo "$S" | json 'd["setChanges"]') - JOINS0 ))
    R=$(( $(echo "$S" | json 'd["reportsSent"] + d["reportsFailed"]') - SENT0 - FAILED0 ))
    T=$(now)
    [ -z "$FIRST_JOIN" ] && [ "$J" -gt 0 ] && FIRST_JOIN=$T
    [ -z "$LAST_JOIN" ] && [ "$J" -ge "$SIZE" ] && LAST_JOIN=$T
    [ -z "$FIRST_REPORT" ] && [ "$R" -gt 0 ] && FIRST_REPORT=$T
    [ -z "$LAST_REPORT" ] && [ "$R" -ge "$SIZE" ] && LAST_REPORT=$T
    [ -n "$LAST_JOIN" ] && [ -n "$LAST_REPORT" ] && break
    if [ "$(date +%s)" -gt "$DEADLINE" ]; then log "gave up after 30 minutes: $J joins, $R reports"; break; fi
    sleep 0.5
  done
  PUTS=$(( $(stat declarationsStored) + $(stat declarationsUnchanged) - PUTS0 ))
  OK=$(( $(stat reportsSent) - SENT0 )); BAD=$(( $(stat reportsFailed) - FAILED0 ))
  NOTFOUND=$(( $(stat licenceNotFound) - NOTFOUND0 ))
  python3 - <<PY
size, start = $SIZE, $START
fj, lj = float("${FIRST_JOIN:-0}" or 0), float("${LAST_JOIN:-0}" or 0)
fr, lr = float("${FIRST_REPORT:-0}" or 0), float("${LAST_REPORT:-0}" or 0)
window = max(lj - fj, 0.5)
print(f"{size} devices: set changes {size / window:.0f}/s ({size} joins in {lj - fj:.1f} s from the first; "
      f"{lj - start:.1f} s from the assignment request, Apple's confirmation included); "
      f"declaration PUTs {$PUTS / window:.1f}/s ($PUTS in that window, repeats answered 304)")
print(f"{size} devices: status reports ingested {size / max(lr - fr, 0.5):.0f}/s ({$OK} answered 2xx, {$BAD} refused, "
      f"in {lr - fr:.1f} s from the first); LicenseNotFound: $NOTFOUND")
PY
done
RSS=$(awk '/VmHWM/ {print $2}' "/proc/$VPPD/status")
echo "vppd peak RSS: $((RSS / 1024)) MiB (config $CONFIG)"
