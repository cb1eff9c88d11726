#!/usr/bin/env bash
# Benchmark: apps by declaration, real processes on PostgreSQL (vppsim, mdmsim with its KMFDDM API, one vppd).
# For each size in SIZES (default "1000 3000 10000"), that many new devices enroll through mdmsim's webhook, then
# one assignment of the app to all of them; vpp carries out a join per Apple-confirmed licence at mdmsim's KMFDDM
# API, each device asks vppsim for its licence, installs, and posts its status report to vpp. Prints:
#   - set changes (joins) per second at the DDM server, from the first to the last;
#   - declaration PUTs per second over the same window (vpp stores the app's declaration before each batch's
#     set changes; KMFDDM answers the repeats 304);
#   - the devices' own status reports answered 2xx by vppd's POST /v1/device-status, per second from first to last
#     (paced by the joins: each device reports once after it installs);
#   - status reports ingested per second over HTTP at full speed: each device of the size posts one more report,
#     STATUS_CONCURRENCY (default 32) at a time, (a) to POST /v1/device-status/{enrollmentId} (answered 2xx per
#     second: recorded in the request's transaction), (b) as DeclarativeManagement status check-ins on the MDM
#     webhook, signed as NanoMDM does (accepted per second, and processed per second until every event is out of
#     `pending`, read from mdm_events);
#   - when Apple (vppsim) associated the licences, so a slow join rate can be told from a slow confirmation.
# STATUS_ROUTE=kmfddm: the devices keep their status reports in mdmsim's KMFDDM only (as behind NanoMDM + KMFDDM) and
# vpp reads them back (GET /v1/status-report, every POLL_SECONDS, default 5): then also prints how long after the
# last report was kept every join of the round was verified, and KMFDDM status reads per second in that window.
# CONFIG=release for optimised binaries (default debug); BENCH_BIN=dir: binaries built already.
set -euo pipefail
cd "$(dirname "$0")/.."
log() { printf '[bench] %s\n' "$*" >&2; }
CONFIG=${CONFIG:-debug}
SIZES=${SIZES:-"1000 3000 10000"}
STATUS_CONCURRENCY=${STATUS_CONCURRENCY:-32}
STATUS_ROUTE=${STATUS_ROUTE:-post}
if [ -n "${BENCH_BIN:-}" ]; then  # binaries built already (a copy, so a build running meanwhile cannot swap them)
  BIN=$BENCH_BIN
else
  for product in vppsim mdmsim vppd vppctl; do swift build -c "$CONFIG" --product "$product" 2>&1 | grep -E "error" || true; done
  BIN=$(swift build -c "$CONFIG" --show-bin-path)
fi
source Scripts/lib/throwaway-postgres.sh
# pg_stat_statements: the statements of each join window, by total time (the profile of the set-change path).
psql "$VPP_TEST_DATABASE_URL" -qc "ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'" >/dev/null
as_pg "$PG_BIN/pg_ctl" -D "$PGDATA" -w restart >/dev/null
psql "$VPP_TEST_DATABASE_URL" -qc "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" >/dev/null
BENCH_NAME=ddm source Scripts/lib/mdm-bench-stack.sh
MDM="http://127.0.0.1:$MDM_PORT"; SIM="http://127.0.0.1:$SIM_PORT"; API="http://127.0.0.1:$VPPD_PORT"
"$BIN/vppsim" serve --port "$SIM_PORT" --rate-limit 0 --log-level error & SIM_PID=$!; PIDS+=($SIM_PID)
"$BIN/mdmsim" serve --port "$MDM_PORT" --api-key-file "$WORK/api.key" --hmac-key-file "$WORK/hmac.key" \
  --vppsim-url "$SIM" --status-url "$API" --status-route "$STATUS_ROUTE" --evaluation-delay-ms 100 --log-level error &
MDM_PID=$!; PIDS+=($MDM_PID)
export VPP_DATABASE_URL="$VPP_TEST_DATABASE_URL" VPP_ENCRYPTION_KEY=$(head -c 32 /dev/urandom | base64) VPP_LOG_LEVEL=error \
  VPP_APPLE_BASE_URL="$SIM/mdm/v2" VPP_PUBLIC_URL="$API" \
  VPP_OUTBOUND_ALLOW="127.0.0.1:$MDM_PORT" \
  VPP_DECLARATION_STATUS_POLL_SECONDS="${POLL_SECONDS:-5}"  # mdmsim is on loopback, over plain http: allowed
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
# GET /v1/devices is paged (1,000 a page): count every page.
states() { python3 Scripts/lib/device-states.py "$API" "$KEY" "$1" "${2:-enrolled}"; }
psql_() { "$PG_BIN/psql" "$VPP_TEST_DATABASE_URL" -Atqc "$1"; }
status_processed() { psql_ "SELECT count(*) FROM mdm_events WHERE topic = 'mdm.DeclarativeManagement' AND state <> 'pending'"; }
stat() { curl -fs "$MDM/sim/ddm/stats" | json "d[\"$1\"]"; }

TOTAL=0; for size in $SIZES; do TOTAL=$((TOTAL + size)); done
UID_=$(curl -fs -X POST "$SIM/sim/locations" -d '{"name": "Bench"}' | json 'd["uId"]')
curl -fs -X POST "$SIM/sim/locations/$UID_/assets" -d "{\"adamId\": \"408709785\", \"totalCount\": $TOTAL}" >/dev/null
TOKEN=$(curl -fs -X POST "$SIM/sim/locations/$UID_/tokens")
TOKEN_ID=$(python3 -c "import json; print(json.dumps({'token': '''$TOKEN'''.strip()}))" | curl -fs -X POST -H "$AUTH" -H 'Content-Type: application/json' --data-binary @- "$API/v1/tokens" | json 'd["token"]["id"]')
curl -fs -X POST -H "$AUTH" "$API/v1/tokens/$TOKEN_ID/sync" >/dev/null

ROUND=0
for SIZE in $SIZES; do
  ROUND=$((ROUND + 1))
  log "$SIZE devices enroll (prefix D$ROUND)"
  curl -fs -X POST "$MDM/sim/devices" -d "{\"count\": $SIZE, \"serialPrefix\": \"D$ROUND\"}" \
    | json '"\n".join(x["serialNumber"] for x in d["devices"])' > "$WORK/serials"
  # Until every device of the round is enrolled, or none more for 120 s (then the states say what is left).
  LAST=-1; LAST_AT=$(date +%s)
  while :; do
    N=$(states "D$ROUND")
    [ "$N" -ge "$SIZE" ] && break
    if [ "$N" != "$LAST" ]; then LAST=$N; LAST_AT=$(date +%s); fi
    if [ $(( $(date +%s) - LAST_AT )) -gt 120 ]; then
      log "no progress for 120 s: $N of $SIZE enrolled; by state: $(states "D$ROUND" all); events ignored:"
      psql_ "SELECT topic, regexp_replace(detail, '[0-9A-Fa-f-]{16,}', '…', 'g'), count(*) FROM mdm_events WHERE state = 'ignored' GROUP BY 1, 2" >&2
      break
    fi
    sleep 3
  done
  ENROLLED=$N
  python3 -c "import json; print(json.dumps({'serialNumbers': open('$WORK/serials').read().split()}))" > "$WORK/assign.json"
  JOINS0=$(stat setChanges); PUTS0=$(( $(stat declarationsStored) + $(stat declarationsUnchanged) ))
  SENT0=$(stat reportsSent); FAILED0=$(stat reportsFailed); NOTFOUND0=$(stat licenceNotFound)
  log "one assignment of the app to $SIZE devices"
  psql "$VPP_TEST_DATABASE_URL" -qAtc "SELECT pg_stat_statements_reset()" >/dev/null
  CPU0=("$(cpu_seconds "$VPPD")" "$(cpu_seconds $(postgres_pids))" "$(cpu_seconds "$MDM_PID")" "$(cpu_seconds "$SIM_PID")")
  if [ "${PERF:-0}" = 1 ]; then perf record -F 499 -g -o "$WORK/vppd.perf" -p "$VPPD" >/dev/null 2>&1 & PERF_PID=$!; fi
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
    [ -z "$LAST_JOIN" ] && [ "$J" -ge "$ENROLLED" ] && LAST_JOIN=$T
    [ -z "$FIRST_REPORT" ] && [ "$R" -gt 0 ] && FIRST_REPORT=$T
    [ -z "$LAST_REPORT" ] && [ "$R" -ge "$ENROLLED" ] && LAST_REPORT=$T
    [ -n "$LAST_JOIN" ] && [ -n "$LAST_REPORT" ] && break
    if [ "$(date +%s)" -gt "$DEADLINE" ]; then log "gave up after 30 minutes: $J joins, $R reports"; break; fi
    sleep 0.5
  done
  CPU1=("$(cpu_seconds "$VPPD")" "$(cpu_seconds $(postgres_pids))" "$(cpu_seconds "$MDM_PID")" "$(cpu_seconds "$SIM_PID")")
  if [ "${PERF:-0}" = 1 ]; then
    kill -INT "$PERF_PID"; wait "$PERF_PID" || true
    echo "$SIZE devices: vppd's hottest symbols in the join window (perf, self time):"
    perf report -i "$WORK/vppd.perf" --no-children --sort dso,symbol --stdio 2>/dev/null \
      | grep -E '^ +[0-9]' | head -"${PERF_TOP:-25}" | { swift demangle --simplified 2>/dev/null || cat; } | cut -c1-160 || true
  fi
  # CPU per device is the figure other load on the machine does not bend (the rates above it does).
  python3 -c "
c0, c1, n = [$(IFS=,; echo "${CPU0[*]}")], [$(IFS=,; echo "${CPU1[*]}")], max($ENROLLED, 1)
names = ['vppd', 'PostgreSQL', 'mdmsim', 'vppsim']
print('$SIZE devices: CPU from the assignment request to the last report (s, and ms per device): '
      + ', '.join(f'{k} {b - a:.1f} ({(b - a) * 1000 / n:.1f})' for k, a, b in zip(names, c0, c1)))"
  echo "$SIZE devices: statements by total time in that window (calls, total ms, mean ms, rows, query):"
  psql "$VPP_TEST_DATABASE_URL" -Atc "SELECT calls || ' | ' || round(total_exec_time::numeric) || ' | '
      || round(mean_exec_time::numeric, 3) || ' | ' || rows || ' | ' || left(regexp_replace(query, '\s+', ' ', 'g'), 120)
    FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT ${TOP:-12}" | sed 's/^/  /'
  PUTS=$(( $(stat declarationsStored) + $(stat declarationsUnchanged) - PUTS0 ))
  OK=$(( $(stat reportsSent) - SENT0 )); BAD=$(( $(stat reportsFailed) - FAILED0 ))
  NOTFOUND=$(( $(stat licenceNotFound) - NOTFOUND0 ))
  APPLE=$(curl -fs "$SIM/sim/licence-log?since=$START" | json '",".join(str(c["at"]) for c in d["changes"] if c["kind"] == "associated") or "0"')
  python3 - <<PY
size, start = $ENROLLED, $START
apple = [$APPLE]
fj, lj = float("${FIRST_JOIN:-0}" or 0), float("${LAST_JOIN:-0}" or 0)
fr, lr = float("${FIRST_REPORT:-0}" or 0), float("${LAST_REPORT:-0}" or 0)
window = max(lj - fj, 0.5)
print(f"{size} devices: set changes {size / window:.0f}/s ({size} joins in {lj - fj:.1f} s from the first; "
      f"{lj - start:.1f} s from the assignment request, Apple's confirmation included); "
      f"declaration PUTs {$PUTS / window:.1f}/s ($PUTS in that window, repeats answered 304)")
print(f"{size} devices: devices' status reports (one per device, after its install) {size / max(lr - fr, 0.5):.0f}/s "
      f"({$OK} answered 2xx, {$BAD} refused, in {lr - fr:.1f} s from the first); LicenseNotFound: $NOTFOUND")
if apple and apple != [0]:
    print(f"{size} devices: Apple associated {len(apple)} licences from +{min(apple) - start:.1f} s to "
          f"+{max(apple) - start:.1f} s after the assignment request; joins from +{fj - start:.1f} s to +{lj - start:.1f} s")
PY
  if [ "$STATUS_ROUTE" = kmfddm ]; then
    # The reports stay in KMFDDM: vpp reads them back; until every join of the round is verified.
    READS0=$(stat statusReportReads); KEPT_AT=$(now); DEADLINE=$(( $(date +%s) + 1800 ))
    verified() {
      psql_ "SELECT count(*) FROM declaration_set_changes
             WHERE kind = 'join' AND install_state = 'verified' AND serial LIKE 'D$ROUND%'"
    }
    until [ "$(verified)" -ge "$ENROLLED" ] || [ "$(date +%s)" -gt "$DEADLINE" ]; do sleep 0.5; done
    python3 -c "
n, v, reads, t = $ENROLLED, $(verified), $(stat statusReportReads) - $READS0, max($(now) - $KEPT_AT, 0.001)
print(f'$SIZE devices: status read back from KMFDDM (POLL_SECONDS ${POLL_SECONDS:-5}): {v} of {n} joins verified '
      f'{t:.1f} s after the last report was kept; {reads} status-report reads in that time ({reads / t:.0f}/s)')"
  fi
  # Status reports at full speed: each device of the round reports its app managed once more, by each route.
  curl -fs "$MDM/sim/devices" > "$WORK/sim-devices.json"; curl -fs "$MDM/sim/ddm/devices" > "$WORK/sim-apps.json"
  python3 - "$WORK" "D$ROUND" <<'PY'
import json, sys
work, prefix = sys.argv[1], sys.argv[2]
apps = json.load(open(f"{work}/sim-apps.json"))
out = [{"udid": d["udid"], "declarationIdentifier": a["declarationIdentifier"], "bundleID": a["bundleID"]}
       for d in json.load(open(f"{work}/sim-devices.json")) if d["serialNumber"].startswith(prefix)
       for a in apps.get(d["serialNumber"], [])[:1]]
json.dump(out, open(f"{work}/status-devices.json", "w"))
PY
  REPORTS=$(json 'len(d)' < "$WORK/status-devices.json")
  echo "$KEY" > "$WORK/status.key"
  python3 Scripts/lib/status-load.py post "$API" "$WORK/status.key" "$WORK/status-devices.json" "$STATUS_CONCURRENCY" \
    > "$WORK/posted.json"
  PROCESSED0=$(status_processed)
  HOOK_START=$(now)
  python3 Scripts/lib/status-load.py webhook "$HOOK" "$WORK/hmac.key" "$WORK/status-devices.json" "$STATUS_CONCURRENCY" \
    > "$WORK/hooked.json"
  DEADLINE=$(( $(date +%s) + 1800 ))
  until [ $(( $(status_processed) - PROCESSED0 )) -ge "$REPORTS" ] || [ "$(date +%s)" -gt "$DEADLINE" ]; do sleep 0.5; done
  HOOK_DONE=$(now); PROCESSED=$(( $(status_processed) - PROCESSED0 ))
  IGNORED=$(psql_ "SELECT count(*) FROM mdm_events WHERE topic = 'mdm.DeclarativeManagement' AND state = 'ignored'")
  python3 - <<PY
import json
posted, hooked, n = json.load(open("$WORK/posted.json")), json.load(open("$WORK/hooked.json")), $REPORTS
print(f"$SIZE devices: POST /v1/device-status at $STATUS_CONCURRENCY concurrent: {posted['ok'] / posted['seconds']:.0f} reports/s "
      f"({posted['ok']} of {n} answered 2xx in {posted['seconds']:.1f} s; refused {posted['refused']}, errors "
      f"{posted['errors']}{', first: ' + posted['first_error'] if posted['first_error'] else ''})")
print(f"$SIZE devices: webhook DeclarativeManagement status at $STATUS_CONCURRENCY concurrent: accepted "
      f"{hooked['ok'] / hooked['seconds']:.0f}/s ({hooked['ok']} of {n} answered 2xx in {hooked['seconds']:.1f} s; "
      f"refused {hooked['refused']}, errors {hooked['errors']}); processed {$PROCESSED / max($HOOK_DONE - $HOOK_START, 0.001):.0f}/s "
      f"($PROCESSED out of pending {$HOOK_DONE - $HOOK_START:.1f} s after the first was posted; $IGNORED ignored so far)")
PY
done
RSS=$(awk '/VmHWM/ {print $2}' "/proc/$VPPD/status")
echo "vppd peak RSS: $((RSS / 1024)) MiB (config $CONFIG)"
