# Sourced by the benchmarks: builds (or reuses) the executables, starts a throwaway PostgreSQL, and offers
# helpers to start vppsim and vppd and to seed a tenant; everything started is stopped on exit.
# Set BENCH_BIN to a folder of already built executables to skip the build (e.g. while others build).
# Needs: PRODUCTS (the executables the benchmark runs); CONFIG (release by default).

log() { printf '[bench] %s\n' "$*" >&2; }
CONFIG=${CONFIG:-release}
if [ -n "${BENCH_BIN:-}" ]; then
  BIN=$BENCH_BIN
else
  for product in $PRODUCTS; do swift build -c "$CONFIG" --product "$product" 2>&1 | grep -E "error" || true; done
  BIN=$(swift build -c "$CONFIG" --show-bin-path)
fi
source Scripts/lib/throwaway-postgres.sh

BENCH_PIDS=()
stop_bench() {
  for p in "${BENCH_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${BENCH_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  stop_postgres
}
trap stop_bench EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
wait_for() { for _ in $(seq 200); do curl -fs "$1" >/dev/null 2>&1 && return 0; sleep 0.1; done; log "$1 never answered"; return 1; }

# start_sim: vppsim with its limiter off; sets SIM (its root URL) and SIM_PID.
start_sim() {
  local port; port=$(free_port)
  "$BIN/vppsim" serve --port "$port" --rate-limit 0 --log-level error & BENCH_PIDS+=($!); SIM_PID=$!
  SIM="http://127.0.0.1:$port"
  wait_for "$SIM/mdm/v2/service/config"
}

# new_database NAME: an empty, migrated database; exports VPP_DATABASE_URL and an encryption key.
new_database() {
  psql "$VPP_TEST_DATABASE_URL" -qc "CREATE DATABASE $1" >/dev/null
  export VPP_DATABASE_URL="${VPP_TEST_DATABASE_URL%/postgres}/$1" VPP_LOG_LEVEL=${VPP_LOG_LEVEL:-error}
  export VPP_ENCRYPTION_KEY=${VPP_ENCRYPTION_KEY:-$(head -c 32 /dev/urandom | base64)}
  "$BIN/vppctl" migrate >/dev/null
}

# bench_tenant NAME ROLE: creates the tenant; sets KEY (an API key) and TENANT_ID.
bench_tenant() {
  "$BIN/vppctl" tenant create "$1" >/dev/null
  KEY=$("$BIN/vppctl" apikey create --role "$2" --tenant "$1" 2>/dev/null | tail -1 | tr -d '[:space:]')
  TENANT_ID=$(psql "$VPP_DATABASE_URL" -Atc "SELECT tenant_id FROM tenants WHERE name = '$1'")
}

# start_vppd: one more vppd on a free port; appends its URL to VPPD_URLS and its pid to VPPD_PIDS.
VPPD_URLS=(); VPPD_PIDS=()
start_vppd() {
  local port; port=$(free_port)
  local output; output=$(mktemp /tmp/vppd-bench.XXXXXX)
  "$BIN/vppd" serve --port "$port" >"$output" 2>&1 & BENCH_PIDS+=($!); VPPD_PIDS+=($!)
  VPPD_URLS+=("http://127.0.0.1:$port")
  wait_for "http://127.0.0.1:$port/healthz" || { tail -20 "$output" >&2; return 1; }
}

# stop_vppds: stops every vppd started so far.
stop_vppds() {
  for p in "${VPPD_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${VPPD_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  VPPD_URLS=(); VPPD_PIDS=()
}

# latency LABEL COUNT METHOD URL [BODY]: COUNT requests one after another on one keep-alive connection
# (with KEY as bearer); prints p50, p99 and max in milliseconds. BODY may contain {i}, replaced by the
# request's number (zero-padded to 7 digits).
latency() {
  python3 - "$KEY" "$@" <<'PY'
import http.client, sys, time, urllib.parse
key, label, count, method, url = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
body = sys.argv[6] if len(sys.argv) > 6 else None
parts = urllib.parse.urlsplit(url)
connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
path = parts.path + ("?" + parts.query if parts.query else "")
headers = {"Authorization": "Bearer " + key, "Content-Type": "application/json"}
times, statuses = [], {}
for i in range(count):
    payload = body.replace("{i}", f"{i:07d}").encode() if body else None
    started = time.perf_counter()
    connection.request(method, path, body=payload, headers=headers)
    response = connection.getresponse(); response.read()
    times.append((time.perf_counter() - started) * 1000)
    statuses[response.status] = statuses.get(response.status, 0) + 1
times.sort()
pick = lambda q: times[min(len(times) - 1, int(q * len(times)))]
print(f"{label}: p50 {pick(0.5):6.2f} ms, p99 {pick(0.99):6.2f} ms, max {times[-1]:6.2f} ms "
      f"({count} requests, statuses {statuses})")
PY
}

# enable_statement_stats: restarts the throwaway PostgreSQL with pg_stat_statements loaded, so a benchmark can
# count statements (`statements_in DB`).
enable_statement_stats() {
  psql "$VPP_TEST_DATABASE_URL" -qc "ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'" >/dev/null
  as_pg "$PG_BIN/pg_ctl" -D "$PGDATA" -w restart >/dev/null
  psql "$VPP_TEST_DATABASE_URL" -qc "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" >/dev/null
}

# statements_in DB: statements executed so far in database DB (needs enable_statement_stats).
statements_in() {
  psql "$VPP_TEST_DATABASE_URL" -Atc "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements s
    JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = '$1'"
}

# seed_licences COUNT: for TENANT_ID, one token synced just now (nothing is due, so the workers stay idle),
# one app and COUNT active device licences on it; seeded in SQL (through Apple's simulator it takes minutes).
seed_licences() {
  local key_id; key_id=$(psql "$VPP_DATABASE_URL" -Atc "SELECT key_id FROM encryption_key_check")
  psql "$VPP_DATABASE_URL" -q >/dev/null <<SQL
    INSERT INTO tokens (tenant_id, token_id, location_uid, location_name, country, org_name, expires_at, fingerprint,
                        recipients, secret_key_id, secret)
      VALUES ('$TENANT_ID', md5('token')::uuid, 'loc', 'Main', 'US', 'Org',
              (extract(epoch from now()) * 1000)::bigint + 200::bigint * 86400000, 'abcd', '[]', '$key_id', '\\x00'::bytea);
    INSERT INTO token_sync (tenant_id, token_id, last_success_at, last_attempt_at, failures)
      VALUES ('$TENANT_ID', md5('token')::uuid, (extract(epoch from now()) * 1000)::bigint,
              (extract(epoch from now()) * 1000)::bigint, 0);
    INSERT INTO apps (tenant_id, adam_id, pricing, product_type, device_assignable, revocable)
      VALUES ('$TENANT_ID', '408709785', 'STDQ', 'App', true, true);
    INSERT INTO token_assets (tenant_id, token_id, adam_id, pricing, total, assigned, available)
      VALUES ('$TENANT_ID', md5('token')::uuid, '408709785', 'STDQ', $1, $1, 0);
    INSERT INTO assignments (tenant_id, assignment_id, token_id, adam_id, pricing, serial, state, origin)
      SELECT '$TENANT_ID', md5('a' || i)::uuid, md5('token')::uuid, '408709785', 'STDQ', 'SN' || lpad(i::text, 10, '0'),
             'active', 'apple'
      FROM generate_series(1, $1) i;
    ANALYZE;
SQL
}
