#!/usr/bin/env bash
# Benchmark: single-device licence assignments through the REST API of two vppd replicas on one
# PostgreSQL (fsync on), 32 concurrent clients, against vppsim with its limiter off and at Apple's 15
# requests per second; printed next to pgbench's simple-update TPS on the same server in the same run.
#
# It also says where the time goes in the limiter-off run: statements and transactions per request
# (pg_stat_statements and pg_stat_database), the statements run most, and the CPU seconds each process spent
# per request (the vppd pair, PostgreSQL's backends, vppsim, the load generator). PERF=1 records a profile of
# the first vppd during that run (`perf record`) and prints its hottest symbols.
#
# The load comes from `vppbench assign-load` (AsyncHTTPClient, about 0.1 ms of CPU a request); LOAD=python uses
# the earlier Python generator (about 0.7 ms a request, on the same two cores as what it measures).
#
#   Scripts/bench-assign.sh                       # release build, 2,000 devices
#   CONFIG=debug DEVICES=500 Scripts/bench-assign.sh
#   BENCH_BIN=/path/to/release DEVICES=1000 PERF=1 Scripts/bench-assign.sh   # another build, with a profile
set -euo pipefail
cd "$(dirname "$0")/.."
log() { printf '[bench] %s\n' "$*" >&2; }
CONFIG=${CONFIG:-release}
DEVICES=${DEVICES:-2000}
CONCURRENCY=${CONCURRENCY:-32}
WARMUP=${WARMUP:-200}   # requests before the measured runs (not counted): the pools open their connections
if [ -n "${BENCH_BIN:-}" ]; then
  BIN=$BENCH_BIN
else
  for product in vppsim vppd vppctl vppbench; do swift build -c "$CONFIG" --product "$product" 2>&1 | grep -E "error" || true; done
  BIN=$(swift build -c "$CONFIG" --show-bin-path)
fi
export PG_FSYNC=on
source Scripts/lib/throwaway-postgres.sh
psql "$VPP_TEST_DATABASE_URL" -qc "ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'" >/dev/null
as_pg "$PG_BIN/pg_ctl" -D "$PGDATA" -w restart >/dev/null
psql "$VPP_TEST_DATABASE_URL" -qc "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" >/dev/null
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; stop_postgres' EXIT

SIM_PORT=$(free_port)
"$BIN/vppsim" serve --port "$SIM_PORT" --rate-limit 0 --log-level error & PIDS+=($!); SIM_PID=$!
SIM="http://127.0.0.1:$SIM_PORT"
for _ in $(seq 100); do curl -fs "$SIM/mdm/v2/service/config" >/dev/null 2>&1 && break; sleep 0.1; done

DB="${VPP_TEST_DATABASE_URL%/postgres}/vppbench"
psql "$VPP_TEST_DATABASE_URL" -qc "CREATE DATABASE vppbench" >/dev/null
export VPP_DATABASE_URL="$DB" VPP_APPLE_BASE_URL="$SIM/mdm/v2" VPP_LOG_LEVEL=error
export VPP_ENCRYPTION_KEY=$(python3 -c 'import base64,os; print(base64.b64encode(os.urandom(32)).decode())')
"$BIN/vppctl" migrate >/dev/null
"$BIN/vppctl" tenant create bench >/dev/null
KEY=$("$BIN/vppctl" apikey create --role app-management --tenant bench | tail -1 | tr -d '[:space:]')
python3 - "$BIN/vppctl" "$((DEVICES + WARMUP))" <<'PY'
import subprocess, sys
vppctl, n = sys.argv[1], int(sys.argv[2])
serials = [f"BENCH{i:07d}" for i in range(n)]
for i in range(0, n, 500):
    subprocess.run([vppctl, "device", "add", "--tenant", "bench", *serials[i:i + 500]], check=True, stdout=subprocess.DEVNULL)
PY
UID_=$(curl -fs -X POST "$SIM/sim/locations" -H 'Content-Type: application/json' -d '{"name":"Bench"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["uId"])')
curl -fs -X POST "$SIM/sim/locations/$UID_/assets" -H 'Content-Type: application/json' \
  -d "{\"adamId\":\"408709785\",\"totalCount\":$(((DEVICES + WARMUP) * 2))}" >/dev/null
TOKEN=$(curl -fs -X POST "$SIM/sim/locations/$UID_/tokens")

URLS=(); VPPD_PIDS=()
for _ in 1 2; do
  PORT=$(free_port)
  "$BIN/vppd" serve --port "$PORT" >/dev/null 2>&1 & PIDS+=($!); VPPD_PIDS+=($!)
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
# Steady state: the seeded devices analysed, as autovacuum does within about a minute of a bulk import. Without
# it the first reads of just-imported devices are planned on stale statistics (2.3 ms a read instead of ~0.1);
# NO_ANALYZE=1 measures that first minute.
[ "${NO_ANALYZE:-0}" = 1 ] || psql "$DB" -qc "ANALYZE" >/dev/null

# held_at_apple LABEL EXPECTED STARTED COUNT: waits (up to 5 minutes) until vppsim holds EXPECTED licences in all,
# and prints the run's COUNT over the time from STARTED (epoch seconds, the load's start) to the last one held:
# requests accepted *and* held at Apple per second.
held_at_apple() {
  python3 - "$SIM" "$1" "$2" "$3" "$4" <<'PY'
import json, sys, time, urllib.request
sim, label, expected, started, count = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
held = 0
while time.time() < started + 300:
    locations = json.load(urllib.request.urlopen(sim + "/sim/locations", timeout=30))["locations"]
    held = sum(location["assignmentCount"] for location in locations)
    if held >= expected: break
    time.sleep(0.05)
elapsed = time.time() - started
print(f"assign[{label}]: held at Apple {held} of {expected} licences {elapsed:.1f} s after the load began "
      f"({count / elapsed:.0f}/s accepted and held)")
PY
}
run_load() {  # label first count
  if [ "${LOAD:-swift}" = swift ]; then
    local url_options=(); for url in "${URLS[@]}"; do url_options+=(--url "$url"); done
    "$BIN/vppbench" assign-load "${url_options[@]}" --key "$KEY" --label "$1" --first "$2" --count "$3" \
      --concurrency "$CONCURRENCY"
    return
  fi
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
started = time.monotonic(); cpu = time.process_time()
threads = [threading.Thread(target=worker) for _ in range(concurrency)]
for t in threads: t.start()
for t in threads: t.join()
elapsed = time.monotonic() - started
latencies.sort()
p = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000
print(f"assign[{label}]: {count} single-device assignments, {concurrency} concurrent, two replicas: "
      f"{count / elapsed:.0f}/s ({elapsed:.1f} s), p50 {p(0.5):.0f} ms, p99 {p(0.99):.0f} ms, statuses {dict(statuses)}; "
      f"load generator CPU {(time.process_time() - cpu) * 1000 / count:.1f} ms per request")
PY
}
# where_time_went COUNT BEFORE…: per request, statements, transactions and CPU seconds by process since BEFORE.
where_time_went() {
  local count=$1 vppd_before=$2 pg_before=$3 sim_before=$4 xacts_before=$5
  local vppd_after pg_after sim_after xacts_after
  vppd_after=$(cpu_seconds "${VPPD_PIDS[@]}"); pg_after=$(cpu_seconds $(postgres_pids)); sim_after=$(cpu_seconds "$SIM_PID")
  xacts_after=$(psql "$VPP_TEST_DATABASE_URL" -Atc "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = 'vppbench'")
  psql "$VPP_TEST_DATABASE_URL" -Atc "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements s
    JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = 'vppbench'" | python3 -c "
import sys; n = int(sys.stdin.read()); c = $count
print(f'assign: per request: {n / c:.1f} statements (plus BEGIN/COMMIT), {($xacts_after - $xacts_before) / c:.1f} transactions; '
      f'CPU ms per request: vppd pair {($vppd_after - $vppd_before) * 1000 / c:.1f}, PostgreSQL {($pg_after - $pg_before) * 1000 / c:.1f}, '
      f'vppsim {($sim_after - $sim_before) * 1000 / c:.1f}')"
  echo "assign: the statements run most (calls per request, mean ms, query):"
  psql "$VPP_TEST_DATABASE_URL" -Atc "SELECT round(calls::numeric / $count, 2) || ' | ' || round(mean_exec_time::numeric, 3)
      || ' | ' || left(regexp_replace(query, '\s+', ' ', 'g'), 110)
    FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = 'vppbench'
    ORDER BY calls DESC LIMIT ${TOP:-15}" | sed 's/^/  /'
  echo "assign: the statements that took the most time (total ms per request, mean ms, query):"
  psql "$VPP_TEST_DATABASE_URL" -Atc "SELECT round((total_exec_time / $count)::numeric, 3) || ' | '
      || round(mean_exec_time::numeric, 3) || ' | ' || left(regexp_replace(query, '\s+', ' ', 'g'), 110)
    FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = 'vppbench'
    ORDER BY total_exec_time DESC LIMIT ${TOP:-15}" | sed 's/^/  /'
}
HALF=$((DEVICES / 2))
# Warm-up on the devices after the measured ones: the first requests of a fresh replica open its database and
# HTTP connections; a server under load is past that. Its figures are printed but not counted.
if [ "$WARMUP" -gt 0 ]; then
  run_load "warm-up, not counted" "$DEVICES" "$WARMUP"
  held_at_apple "warm-up, not counted" "$WARMUP" "$(date +%s.%N)" "$WARMUP" >/dev/null
fi
psql "$VPP_TEST_DATABASE_URL" -qAtc "SELECT pg_stat_statements_reset()" >/dev/null
BEFORE=("$(cpu_seconds "${VPPD_PIDS[@]}")" "$(cpu_seconds $(postgres_pids))" "$(cpu_seconds "$SIM_PID")"
  "$(psql "$VPP_TEST_DATABASE_URL" -Atc "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = 'vppbench'")")
if [ "${PERF:-0}" = 1 ]; then
  perf record -F 999 -g -o /tmp/bench-assign.perf.data -p "${VPPD_PIDS[0]}" >/dev/null 2>&1 & PERF_PID=$!
fi
STARTED=$(date +%s.%N)
run_load "vppsim limiter off" 0 "$HALF"
held_at_apple "vppsim limiter off" "$((HALF + WARMUP))" "$STARTED" "$HALF"
if [ "${PERF:-0}" = 1 ]; then
  kill -INT "$PERF_PID"; wait "$PERF_PID" || true
  echo "assign: the first vppd's CPU by library (perf, self time):"
  perf report -i /tmp/bench-assign.perf.data --no-children --sort dso --stdio 2>/dev/null \
    | grep -E '^ +[0-9]' | head -12 || true
  echo "assign: the first vppd's hottest symbols (perf, self time):"
  perf report -i /tmp/bench-assign.perf.data --no-children --sort dso,symbol --stdio 2>/dev/null \
    | grep -E '^ +[0-9]' | head -"${PERF_TOP:-30}" | { swift demangle --simplified 2>/dev/null || cat; } | cut -c1-160 || true
fi
where_time_went "$HALF" "${BEFORE[@]}"
curl -fs "$SIM/sim/settings" | python3 -c 'import json,sys; s=json.load(sys.stdin); s["requestsPerSecond"]=15; print(json.dumps(s))' \
  | curl -fs -X PUT "$SIM/sim/settings" -H 'Content-Type: application/json' -d @- >/dev/null
curl -fs -X DELETE "$SIM/sim/stats" >/dev/null
STARTED=$(date +%s.%N)
run_load "vppsim at 15 rps" "$HALF" "$HALF"
held_at_apple "vppsim at 15 rps" "$((DEVICES + WARMUP))" "$STARTED" "$HALF"
curl -fs "$SIM/sim/stats" | python3 -c 'import json,sys; s=json.load(sys.stdin); print("assign: Apple calls in the 15 rps run:", sum(s["requests"].values()), dict(s["requests"]), "rate-limited:", s["rateLimited"])'
PGURL="${VPP_TEST_DATABASE_URL%/postgres}/pgbench"
psql "$VPP_TEST_DATABASE_URL" -qc "CREATE DATABASE pgbench" >/dev/null
pgbench -q -i -s 10 "$PGURL" >/dev/null 2>&1
pgbench -N -c "$CONCURRENCY" -j 2 -T 10 "$PGURL" 2>/dev/null | grep -E "^tps" | sed 's/^/pgbench -N (simple-update, same server, fsync on): /'
