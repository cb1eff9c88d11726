#!/usr/bin/env bash
# vpp in its production topology, through a PostgreSQL failover, under load:
#
#   etcd (Debian's etcd-server) ── two PostgreSQL 15 nodes managed by Patroni (PyPI) ── HAProxy following the
#   leader through Patroni's REST API (GET /primary, on-marked-down shutdown-sessions) ── two vppd replicas
#   assigning licences against vppsim, one request per device, each with an Idempotency-Key and retried on 503.
#
# A clean switchover, then a hard kill of the new leader (SIGKILL to its Patroni and its postmaster: the machine
# died; the replica is promoted once the leader key's TTL runs out). Prints each interruption (the longest time
# without a successful answer around the event) and checks: nothing lost (every 2xx is active in vpp), nothing
# granted twice (one licence per device at Apple and in vpp, no "already licensed" for a retried request), every
# 2xx held at Apple (vppsim).
#
#   Scripts/test-ha.sh               # builds (debug) if needed; about 2 minutes; not part of Scripts/test.sh
#   KEEP=1 Scripts/test-ha.sh        # keep the logs (vppd, Patroni, HAProxy, the load's every answer)
#
# Installs what is missing: etcd-server and haproxy (apt-get), Patroni in a virtualenv at /opt/vpp-patroni
# (pip; PostgreSQL refuses root, so Patroni runs as `postgres` and needs a Python that user can read).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
log() { printf '[test-ha] %s\n' "$*" >&2; }

DEVICES=${DEVICES:-1500}
BIN=${BIN:-.build/debug}
PG_BIN=$(dirname "$(ls /usr/lib/postgresql/*/bin/pg_ctl 2>/dev/null | head -1)")
[ -n "$PG_BIN" ] && [ -x "$PG_BIN/postgres" ] || { log "PostgreSQL 15 is missing (apt-get install postgresql)"; exit 1; }

for tool in etcd haproxy; do
  if ! command -v "$tool" >/dev/null; then
    package=$([ "$tool" = etcd ] && echo etcd-server || echo haproxy)
    log "installing $package (apt-get)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$package" >/dev/null 2>&1 \
      || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$package" >/dev/null; }
  fi
done
PATRONI_VENV=${PATRONI_VENV:-/opt/vpp-patroni}
if [ ! -x "$PATRONI_VENV/bin/patroni" ]; then
  if ! /usr/bin/python3 -c 'import ensurepip' 2>/dev/null; then
    log "installing python3-venv (apt-get)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null 2>&1 \
      || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null; }
  fi
  log "installing Patroni into $PATRONI_VENV (pip)"
  /usr/bin/python3 -m venv "$PATRONI_VENV"
  "$PATRONI_VENV/bin/pip" install -q 'patroni[etcd]' psycopg2-binary
fi
if [ ! -x "$BIN/vppd" ] || [ ! -x "$BIN/vppctl" ] || [ ! -x "$BIN/vppsim" ]; then
  log "building vppd, vppctl, vppsim"
  swift build --product vppd && swift build --product vppctl && swift build --product vppsim
fi

WORK=$(mktemp -d /tmp/vpp-ha.XXXXXX)
chmod 755 "$WORK"
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[ "$(id -u)" = 0 ] && chown postgres "$WORK"
PIDS=()
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for node in 1 2; do
    [ -f "$WORK/pg$node/postmaster.pid" ] && as_pg "$PG_BIN/pg_ctl" -D "$WORK/pg$node" -m immediate stop >/dev/null 2>&1 || true
  done
  sleep 1
  for pid in "${PIDS[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  if [ "$status" -ne 0 ]; then
    log "failed; logs kept in $WORK"
  elif [ -n "${KEEP:-}" ]; then
    log "logs kept in $WORK"
  else
    rm -rf "$WORK"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
ETCD_CLIENT=$(free_port); ETCD_PEER=$(free_port)
PG1=$(free_port); PG2=$(free_port); API1=$(free_port); API2=$(free_port); HA_PORT=$(free_port)

log "etcd on 127.0.0.1:$ETCD_CLIENT"
etcd --name ha --data-dir "$WORK/etcd" --listen-client-urls "http://127.0.0.1:$ETCD_CLIENT" \
  --advertise-client-urls "http://127.0.0.1:$ETCD_CLIENT" --listen-peer-urls "http://127.0.0.1:$ETCD_PEER" \
  --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER" --initial-cluster "ha=http://127.0.0.1:$ETCD_PEER" \
  --enable-v2=true >"$WORK/etcd.log" 2>&1 &
PIDS+=($!)

patroni_config() { # node, pg port, api port
  cat <<EOF
scope: vpp-ha
namespace: /vpp-$$/
name: pg$1
restapi:
  listen: 127.0.0.1:$3
  connect_address: 127.0.0.1:$3
etcd:
  host: 127.0.0.1:$ETCD_CLIENT
bootstrap:
  dcs:
    ttl: 10
    loop_wait: 2
    retry_timeout: 4
    maximum_lag_on_failover: 1048576
    # A commit is answered only once the replica has it: with asynchronous replication a hard kill of the
    # leader lost a reservation already answered 202 (found by this script). Not strict: a leader alone
    # keeps accepting writes.
    synchronous_mode: true
    postgresql:
      use_pg_rewind: true
      parameters:
        wal_level: replica
        hot_standby: "on"
        wal_log_hints: "on"
        max_wal_senders: 10
        max_replication_slots: 10
        max_connections: 200
        fsync: "off"
  initdb:
    - encoding: UTF8
    - no-locale
postgresql:
  listen: 127.0.0.1:$2
  connect_address: 127.0.0.1:$2
  data_dir: $WORK/pg$1
  bin_dir: $PG_BIN
  pgpass: $WORK/pgpass$1
  pg_hba:
    - local all all trust
    - host all all 127.0.0.1/32 trust
    - host replication replicator 127.0.0.1/32 trust
  authentication:
    superuser: {username: postgres, password: postgres}
    replication: {username: replicator, password: replicator}
    rewind: {username: postgres, password: postgres}
  parameters:
    unix_socket_directories: $WORK
EOF
}
start_patroni() { # node; PATRONI<node> is Patroni's own process id (under runuser when root)
  as_pg "$PATRONI_VENV/bin/patroni" "$WORK/pg$1.yml" >>"$WORK/patroni$1.log" 2>&1 &
  local launcher=$! pid=""
  PIDS+=($launcher)
  # Patroni itself runs under a subshell and runuser: find its process among the launcher's descendants.
  # (Patroni forks once: a parent that reaps, a child that works; both must die with the machine.)
  for _ in $(seq 100); do pid=$(patroni_below "$launcher" | tr '\n' ' '); [ -n "$pid" ] && break; sleep 0.1; done
  [ -n "$pid" ] || { log "Patroni pg$1 did not start"; exit 1; }
  sleep 1
  pid=$(patroni_below "$launcher" | tr '\n' ' ')
  PIDS+=($pid)
  eval "PATRONI$1='$pid'"
}
patroni_below() { # the process ids under $1 whose command line runs bin/patroni
  local child
  for child in $(pgrep -P "$1" 2>/dev/null); do
    if tr '\0' ' ' <"/proc/$child/cmdline" 2>/dev/null | grep -q "bin/patroni "; then echo "$child"; fi
    patroni_below "$child"
  done
}
role_of() { curl -fsS "http://127.0.0.1:$1/patroni" 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin).get("role",""))' 2>/dev/null || true; }
wait_for() { # seconds, command...
  local until=$((SECONDS + $1)); shift
  until "$@"; do [ "$SECONDS" -lt "$until" ] || return 1; sleep 0.5; done
}
patroni_config 1 "$PG1" "$API1" >"$WORK/pg1.yml"
patroni_config 2 "$PG2" "$API2" >"$WORK/pg2.yml"
[ "$(id -u)" = 0 ] && chown postgres "$WORK"/pg?.yml
wait_for 20 curl -fs "http://127.0.0.1:$ETCD_CLIENT/health" -o /dev/null || { log "etcd did not start"; exit 1; }
log "Patroni node pg1 (PostgreSQL on $PG1, REST API on $API1)"
start_patroni 1
wait_for 60 curl -fs "http://127.0.0.1:$API1/primary" -o /dev/null || { log "pg1 never led"; tail -20 "$WORK/patroni1.log"; exit 1; }
log "Patroni node pg2 (PostgreSQL on $PG2, REST API on $API2)"
start_patroni 2
wait_for 90 curl -fs "http://127.0.0.1:$API2/replica" -o /dev/null || { log "pg2 never replicated"; tail -20 "$WORK/patroni2.log"; exit 1; }

cat >"$WORK/haproxy.cfg" <<EOF
global
  maxconn 2000
defaults
  mode tcp
  timeout connect 2s
  timeout client 30m
  timeout server 30m
  timeout check 1s
listen postgres_primary
  bind 127.0.0.1:$HA_PORT
  option httpchk GET /primary
  http-check expect status 200
  default-server inter 1s fall 2 rise 1 on-marked-down shutdown-sessions
  server pg1 127.0.0.1:$PG1 check port $API1
  server pg2 127.0.0.1:$PG2 check port $API2
EOF
haproxy -f "$WORK/haproxy.cfg" -db >"$WORK/haproxy.log" 2>&1 &
PIDS+=($!)
log "HAProxy on 127.0.0.1:$HA_PORT, following Patroni's /primary"

DB_URL="postgres://postgres@127.0.0.1:$HA_PORT/postgres"
"$BIN/vppsim" serve --port 0 --rate-limit 0 --log-level error >"$WORK/vppsim.log" 2>&1 &
PIDS+=($!)
wait_for 20 grep -q "listening on" "$WORK/vppsim.log"
SIM=$(grep -o 'http://[0-9.]*:[0-9]*' "$WORK/vppsim.log" | head -1)
PORT_A=$(free_port); PORT_B=$(free_port)
export VPP_DATABASE_URL=$DB_URL VPP_APPLE_BASE_URL="$SIM/mdm/v2" VPP_LOG_LEVEL=${VPP_LOG_LEVEL:-info}
export VPP_ENCRYPTION_KEY=$(head -c 32 /dev/urandom | base64)
export VPP_PUBLIC_URL="http://127.0.0.1:$PORT_A" VPP_INTENT_LEASE_SECONDS=15
"$BIN/vppctl" migrate >/dev/null
"$BIN/vppctl" tenant create acme >/dev/null
API_KEY=$("$BIN/vppctl" apikey create --tenant acme --role app-management)
python3 -c "print(' '.join('C02HA%07d' % i for i in range($DEVICES)))" | xargs "$BIN/vppctl" device add --tenant acme >/dev/null
"$BIN/vppd" serve --port "$PORT_A" >"$WORK/vppd-a.log" 2>&1 &
PIDS+=($!)
"$BIN/vppd" serve --port "$PORT_B" >"$WORK/vppd-b.log" 2>&1 &
PIDS+=($!)
wait_for 30 curl -fs "http://127.0.0.1:$PORT_A/readyz" -o /dev/null
wait_for 30 curl -fs "http://127.0.0.1:$PORT_B/readyz" -o /dev/null
LOCATION=$(curl -fsS -X POST "$SIM/sim/locations" -H 'Content-Type: application/json' -d '{"name":"Main Campus"}' \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["uId"])')
curl -fsS -X POST "$SIM/sim/locations/$LOCATION/assets" -H 'Content-Type: application/json' \
  -d "{\"adamId\":\"408709785\",\"totalCount\":$((DEVICES * 2))}" >/dev/null
STOKEN=$(curl -fsS -X POST "$SIM/sim/locations/$LOCATION/tokens")
TOKEN_ID=$(python3 - "$STOKEN" <<EOF
import json, sys, urllib.request
body = json.dumps({"token": sys.argv[1]}).encode()
request = urllib.request.Request("http://127.0.0.1:$PORT_A/v1/tokens", data=body, method="POST",
    headers={"Authorization": "Bearer $API_KEY", "Content-Type": "application/json"})
print(json.load(urllib.request.urlopen(request))["token"]["id"])
EOF
)
curl -fsS -X POST "http://127.0.0.1:$PORT_A/v1/tokens/$TOKEN_ID/sync" -H "Authorization: Bearer $API_KEY" -o /dev/null
log "vppsim, two vppd replicas through HAProxy; $DEVICES devices; token $TOKEN_ID synced"

leader_api() { for api in $API1 $API2; do [ "$(role_of "$api")" = primary ] && { echo "$api"; return; }; done; }
node_of_api() { [ "$1" = "$API1" ] && echo 1 || echo 2; }

# The load, until $WORK/stop appears: 4 clients, one device per request (about 15 requests/s), alternating
# replicas; a 503 (or no answer within 30 s) is retried with the same Idempotency-Key after Retry-After (capped
# at 1 s), as is a 409 idempotency_key_in_progress. Every attempt is recorded.
python3 - "$WORK" "$API_KEY" "http://127.0.0.1:$PORT_A" "http://127.0.0.1:$PORT_B" "$DEVICES" <<'EOF' &
import json, sys, threading, time, urllib.request, urllib.error, uuid
work, key, a, b, devices = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
serials = ["C02HA%07d" % i for i in range(devices)]
lock = threading.Lock()
attempts, finals = [], {}
start = time.time()
def assign(index, serial):
    idem = str(uuid.uuid4())
    tries = 0
    while True:
        tries += 1
        server = (a, b)[(index + tries) % 2]
        t0 = time.time()
        request = urllib.request.Request(server + "/v1/apps/408709785/licenses", method="POST",
            data=json.dumps({"serialNumbers": [serial]}).encode(),
            headers={"Authorization": "Bearer " + key, "Content-Type": "application/json", "Idempotency-Key": idem})
        retry_after = 1.0
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, body = response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            status, body = error.code, error.read().decode()
            retry_after = min(1.0, float(error.headers.get("Retry-After") or 1))
        except Exception as error:
            status, body = 0, str(error)
        t1 = time.time()
        with lock:
            attempts.append({"serial": serial, "t0": t0 - start, "t1": t1 - start, "status": status})
        final = "already_licensed" in body or "idempotency_outcome_lost" in body
        if status in (503, 0, 409) and not final and tries < 200:
            time.sleep(retry_after)
            continue
        with lock:
            finals[serial] = {"status": status, "tries": tries, "body": body[:300]}
        return
pending = list(enumerate(serials))
import os
def client():
    while not os.path.exists(work + "/stop"):
        with lock:
            if not pending: return
            index, serial = pending.pop(0)
        assign(index, serial)
        time.sleep(0.2)
threads = [threading.Thread(target=client) for _ in range(4)]
for thread in threads: thread.start()
for thread in threads: thread.join()
json.dump({"attempts": attempts, "finals": finals, "start": start}, open(work + "/load.json", "w"))
EOF
LOAD=$!
PIDS+=($LOAD)
LOAD_START=$(date +%s.%N)
mark() { python3 -c "import time; print(round(time.time() - $LOAD_START, 2))"; }

sleep 6
OLD=$(leader_api); OLD_NODE=$(node_of_api "$OLD"); NEW_NODE=$((3 - OLD_NODE))
SWITCHOVER_AT=$(mark)
log "t=${SWITCHOVER_AT}s switchover: pg$OLD_NODE -> pg$NEW_NODE"
"$PATRONI_VENV/bin/patronictl" -c "$WORK/pg$OLD_NODE.yml" switchover --leader "pg$OLD_NODE" --candidate "pg$NEW_NODE" --force \
  >"$WORK/switchover.log" 2>&1 || { cat "$WORK/switchover.log"; exit 1; }
wait_for 60 curl -fs "http://127.0.0.1:$([ "$NEW_NODE" = 1 ] && echo "$API1" || echo "$API2")/primary" -o /dev/null
wait_for 60 curl -fs "http://127.0.0.1:$([ "$OLD_NODE" = 1 ] && echo "$API1" || echo "$API2")/replica" -o /dev/null \
  || log "pg$OLD_NODE did not rejoin as a replica in 60 s"
sleep 8

LEADER_NODE=$NEW_NODE
KILL_AT=$(mark)
PATRONI_PID=$([ "$LEADER_NODE" = 1 ] && echo "$PATRONI1" || echo "$PATRONI2")
POSTMASTER=$(head -1 "$WORK/pg$LEADER_NODE/postmaster.pid")
log "t=${KILL_AT}s hard kill of the leader pg$LEADER_NODE (SIGKILL to Patroni $PATRONI_PID and postmaster $POSTMASTER)"
# The whole machine dies: Patroni first (nobody releases the leader key), then PostgreSQL and its children.
CHILDREN=$(pgrep -P "$POSTMASTER" 2>/dev/null || true)
for pid in $PATRONI_PID; do kill -9 "$pid" 2>/dev/null || true; done
kill -9 "$POSTMASTER" 2>/dev/null || true
for child in $CHILDREN; do kill -9 "$child" 2>/dev/null || true; done
SURVIVOR=$((3 - LEADER_NODE))
wait_for 60 curl -fs "http://127.0.0.1:$([ "$SURVIVOR" = 1 ] && echo "$API1" || echo "$API2")/primary" -o /dev/null \
  || { log "pg$SURVIVOR was never promoted"; tail -30 "$WORK/patroni$SURVIVOR.log"; exit 1; }
log "t=$(mark)s pg$SURVIVOR promoted"
sleep 10
STOP_AT=$(mark)
touch "$WORK/stop"
wait "$LOAD" || { log "the load generator failed"; exit 1; }
log "load done at t=$(mark)s; waiting for every licence to settle"
sleep 2

python3 - "$WORK" "$API_KEY" "http://127.0.0.1:$PORT_A" "$SIM" "$STOKEN" "$SWITCHOVER_AT" "$KILL_AT" "$STOP_AT" <<'EOF'
import json, sys, time, urllib.request, collections
work, key, a, sim, stoken = sys.argv[1:6]
switchover_at, kill_at, stop_at = float(sys.argv[6]), float(sys.argv[7]), float(sys.argv[8])
load = json.load(open(work + "/load.json"))
attempts, finals = load["attempts"], load["finals"]

def get(url, bearer):
    request = urllib.request.Request(url, headers={"Authorization": "Bearer " + bearer})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)

def vpp_licences():
    found, url = [], a + "/v1/licenses?limit=1000"
    while url:
        request = urllib.request.Request(url, headers={"Authorization": "Bearer " + key})
        with urllib.request.urlopen(request, timeout=30) as response:
            found += json.load(response)
            link = response.headers.get("Link") or ""
            url = a + link[link.index("<") + 1:link.index(">")].replace(a, "") if 'rel="next"' in link else None
    return found

def interruption(start, end):
    # The longest time without a successful answer between the event and the next one (or the load's end),
    # counted from the last success before it; under this load successes normally come every ~0.1 s.
    ok = sorted(x["t1"] for x in attempts if 200 <= x["status"] < 300)
    before = [t for t in ok if t <= start]
    points = ([before[-1]] if before else [start]) + [t for t in ok if start < t <= end]
    gaps = [b - a for a, b in zip(points, points[1:])]
    return max(gaps) if gaps else float("nan")

failures = [x for x in attempts if x["status"] not in range(200, 300)]
print("[test-ha] attempts: %d, of which not 2xx: %d (%s)" % (len(attempts), len(failures),
    dict(collections.Counter(x["status"] for x in failures))))
slowest = max((x["t1"] - x["t0"] for x in attempts), default=0)
timeline = collections.defaultdict(collections.Counter)
for x in attempts: timeline[int(x["t0"] // 5) * 5][x["status"]] += 1
print("[test-ha] answers by the second they were asked (5 s buckets): " + "; ".join(
    "%d: %s" % (t, dict(c)) for t, c in sorted(timeline.items())))
print("[test-ha] slowest single answer: %.2f s (request deadline 10 s)" % slowest)
print("[test-ha] interruption by the switchover: %.2f s without a successful answer" % interruption(switchover_at, kill_at))
print("[test-ha] interruption by the hard kill:  %.2f s without a successful answer" % interruption(kill_at, stop_at))

problems = []
if slowest > 11: problems.append("an answer took %.1f s, past the request deadline plus 1 s" % slowest)
# A request whose write committed but whose answer was lost (the server or the database went away in between)
# is answered idempotency_outcome_lost on retry, never carried out twice: it must hold its licence like a 2xx.
lost = {s for s, f in finals.items() if "idempotency_outcome_lost" in f["body"]}
print("[test-ha] answers lost after their write committed (retry said idempotency_outcome_lost): %d" % len(lost))
ok = {s for s, f in finals.items() if 200 <= f["status"] < 300} | lost
other = {s: f for s, f in finals.items() if s not in ok}
if other:
    problems.append("requests without a 2xx in the end: %s" % dict(list(other.items())[:5]))
deadline = time.time() + 120
while True:
    licences = vpp_licences()
    states = {l.get("serialNumber"): l.get("state") for l in licences}
    unsettled = [s for s in ok if states.get(s) != "active"]
    if not unsettled or time.time() > deadline: break
    time.sleep(2)
print("[test-ha] settled in vpp: %d of %d 2xx (or lost) answers active (%d unsettled)" % (len(ok) - len(unsettled), len(ok), len(unsettled)))
if unsettled:
    problems.append("lost or unsettled: %d, e.g. %s" % (len(unsettled), [(s, states.get(s)) for s in unsettled[:5]]))
per_serial = collections.Counter(l.get("serialNumber") for l in licences)
twice = [s for s, n in per_serial.items() if n > 1]
if twice: problems.append("granted twice in vpp: %s" % twice[:5])
already = [s for s, f in finals.items() if "already_licensed" in f["body"]]
if already: problems.append("a retried request answered already_licensed: %s" % already[:5])
at_apple, page = collections.Counter(), 0
while page is not None:
    answer = get(sim + "/mdm/v2/assignments?adamId=408709785&pageIndex=%d" % page, stoken)
    for item in answer.get("assignments", []):
        at_apple[item.get("serialNumber")] += 1
    page = answer.get("nextPageIndex")
missing = [s for s in ok if at_apple[s] != 1]
if missing: problems.append("2xx not held exactly once at Apple: %s" % [(s, at_apple[s]) for s in missing[:5]])
unknown = [s for s in at_apple if s not in ok]
if unknown: problems.append("held at Apple without a 2xx: %s" % unknown[:5])
print("[test-ha] at Apple: %d devices hold the app; vpp: %d active" % (len(at_apple), sum(1 for s in states.values() if s == "active")))
if problems:
    for problem in problems: print("[test-ha] PROBLEM: " + problem)
    sys.exit(1)
print("[test-ha] OK: nothing lost, nothing granted twice, every 2xx held at Apple")
EOF
