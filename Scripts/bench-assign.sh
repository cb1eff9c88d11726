#!/usr/bin/env bash
# Benchmark: single-device licence assignments through the REST API of two vppd replicas on one
# PostgreSQL (fsync on), 32 concurrent clients, against vppsim with its limiter off and at Apple's 15
# requests per second; printed next to pgbench's simple-update TPS on the same server in the same run.
#
#   Scripts/bench-assign.sh                       # release build, 2,000 devices
#   CONFIG=debug DEVICES=500 Scripts/bench-assign.sh
set -euo pipefail
cd "$(dirname "$0")/.."
log() { printf '[bench] %s\n' "$*" >&2; }
CONFIG=${CONFIG:-release}
DEVICES=${DEVICES:-2000}
CONCURRENCY=${CONCURRENCY:-32}
for product in vppsim vppd vppctl; do swift build -c "$CONFIG" --product "$product" 2>&1 | grep -E "error" || true; done
BIN=$(swift build -c "$CONFIG" --show-bin-path)
export PG_FSYNC=on
source Scripts/lib/throwaway-postgres.sh
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; stop_postgres' EXIT

SIM_PORT=$(free_port)
"$BIN/vppsim" serve --port "$SIM_PORT" --rate-limit 0 --log-level error & PIDS+=($!)
SIM="http://127.0.0.1:$SIM_PORT"
for _ in $(seq 100); do curl -fs "$SIM/mdm/v2/service/config" >/dev/null 2>&1 && break; sleep 0.1; done

DB="${VPP_TEST_DATABASE_URL%/postgres}/vppbench"
psql "$VPP_TEST_DATABASE_URL" -qc "CREATE DATABASE vppbench" >/dev/null
export VPP_DATABASE_URL="$DB" VPP_APPLE_BASE_URL="$SIM/mdm/v2" VPP_LOG_LEVEL=error
export VPP_ENCRYPTION_KEY=$(python3 -c 'import base64,os; print(base64.b64encode(os.urandom(32)).decode())')
"$BIN/vppctl" migrate >/dev/null
"$BIN/vppctl" tenant create bench >/dev/null
KEY=$("$BIN/vppctl" apikey create --role app-management --tenant bench | tail -1 | tr -d '[:space:]')
python3 - "$BIN/vppctl" "$DEVICES" <<'PY'
import subprocess, sys
vppctl, n = sys.argv[1], int(sys.argv[2])
serials = [f"BENCH{i:07d}" for i in range(n)]
for i in range(0, n, 500):
    subprocess.run([vppctl, "device", "add", "--tenant", "bench", *serials[i:i + 500]], check=True, stdout=subprocess.DEVNULL)
PY
UID_=$(curl -fs -X POST "$SIM/sim/locations" -H 'Content-Type: application/json' -d '{"name":"Bench"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["uId"])')
curl -fs -X POST "$SIM/sim/locations/$UID_/assets" -H 'Content-Type: application/json' \
  -d "{\"adamId\":\"408709785\",\"totalCount\":$((DEVICES * 2))}" >/dev/null
TOKEN=$(curl -fs -X POST "$SIM/sim/locations/$UID_/tokens")

URLS=()
for _ in 1 2; do
  PORT=$(free_port)
  "$BIN/vppd" serve --port "$PORT" >/dev/null 2>&1 & PIDS+=($!)
  URLS+=("http://127.0.0.1:$PORT")
done
for url in "${URLS[@]}"; do for _ in $(seq 100); do curl -fs "$url/healthz" >/dev/null 2>&1 && break; sleep 0.1; done; done
python3 - "$KEY" "$TOKEN" "${URLS[0]}" <<'PY' >/dev/null
import json, sys, urllib.request
key, token, url = sys.argv[1:4]
req = urllib.request.Request(url + "/v1/tokens", data=json.dumps({"token": token}).encode(), method="POST",
                             headers={"Authorization": "Bearer " + key, "Content-Type": "application/json"})
urllib.request.urlopen(req, timeout=60).read()
PY
sleep 2

run_load() {  # label first count
  python3 - "$KEY" "$1" "$2" "$3" "$CONCURRENCY" "${URLS[@]}" <<'PY'
import json, sys, time, threading, urllib.request, urllib.error, collections
key, label, first, count, concurrency, urls = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[6:]
statuses = collections.Counter(); lock = threading.Lock(); latencies = []
todo = list(range(first, first + count)); todo.reverse()
def worker():
    while True:
        with lock:
            if not todo: return
            i = todo.pop()
        body = json.dumps({"serialNumbers": [f"BENCH{i:07d}"]}).encode()
        req = urllib.request.Request(urls[i % len(urls)] + "/v1/apps/408709785/licenses", data=body, method="POST",
                                     headers={"Authorization": "Bearer " + key, "Content-Type": "application/json"})
        started = time.monotonic()
        try:
            status = urllib.request.urlopen(req, timeout=120).status
        except urllib.error.HTTPError as error:
            status = error.code
        except Exception:
            status = "error"
        with lock:
            statuses[status] += 1; latencies.append(time.monotonic() - started)
started = time.monotonic()
threads = [threading.Thread(target=worker) for _ in range(concurrency)]
for t in threads: t.start()
for t in threads: t.join()
elapsed = time.monotonic() - started
latencies.sort()
p = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000
print(f"assign[{label}]: {count} single-device assignments, {concurrency} concurrent, two replicas: "
      f"{count / elapsed:.0f}/s ({elapsed:.1f} s), p50 {p(0.5):.0f} ms, p99 {p(0.99):.0f} ms, statuses {dict(statuses)}")
PY
}
HALF=$((DEVICES / 2))
run_load "vppsim limiter off" 0 "$HALF"
curl -fs "$SIM/sim/settings" | python3 -c 'import json,sys; s=json.load(sys.stdin); s["requestsPerSecond"]=15; print(json.dumps(s))' \
  | curl -fs -X PUT "$SIM/sim/settings" -H 'Content-Type: application/json' -d @- >/dev/null
curl -fs -X DELETE "$SIM/sim/stats" >/dev/null
run_load "vppsim at 15 rps" "$HALF" "$HALF"
curl -fs "$SIM/sim/stats" | python3 -c 'import json,sys; s=json.load(sys.stdin); print("assign: Apple calls in the 15 rps run:", sum(s["requests"].values()), dict(s["requests"]), "rate-limited:", s["rateLimited"])'
PGURL="${VPP_TEST_DATABASE_URL%/postgres}/pgbench"
psql "$VPP_TEST_DATABASE_URL" -qc "CREATE DATABASE pgbench" >/dev/null
pgbench -q -i -s 10 "$PGURL" >/dev/null 2>&1
pgbench -N -c "$CONCURRENCY" -j 2 -T 10 "$PGURL" 2>/dev/null | grep -E "^tps" | sed 's/^/pgbench -N (simple-update, same server, fsync on): /'
