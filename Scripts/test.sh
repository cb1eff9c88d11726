#!/usr/bin/env bash
# The one test command: starts a throwaway PostgreSQL 15 (and the other real services the tests talk
# to), checks the layering, runs every test, and always cleans up (success, failure or Ctrl-C).
#
#   Scripts/test.sh                 # everything
#   Scripts/test.sh --filter Domain # extra arguments go to `swift test`
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\033[1m[test.sh]\033[0m %s\n' "$*" >&2; }

PG_BIN=""
for candidate in "$(command -v pg_ctl 2>/dev/null || true)" /usr/lib/postgresql/*/bin/pg_ctl; do
  if [ -n "$candidate" ] && [ -x "$candidate" ]; then PG_BIN=$(dirname "$candidate"); break; fi
done
if [ -z "$PG_BIN" ]; then
  log "PostgreSQL is not installed; installing it (apt-get install postgresql)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  PG_BIN=$(dirname "$(ls /usr/lib/postgresql/*/bin/pg_ctl | head -1)")
fi

WORK=$(mktemp -d /tmp/vpp-test.XXXXXX)
chmod 755 "$WORK"
PGDATA="$WORK/pgdata"
PG_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')

# PostgreSQL refuses to run as root: run it as the `postgres` user then.
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
if [ "$(id -u)" = 0 ]; then chown postgres "$WORK"; fi

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  if [ -f "$PGDATA/postmaster.pid" ]; then
    as_pg "$PG_BIN/pg_ctl" -D "$PGDATA" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$WORK"
  log "cleaned up PostgreSQL on port $PG_PORT"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

log "starting PostgreSQL ($PG_BIN) on 127.0.0.1:$PG_PORT"
as_pg "$PG_BIN/initdb" -D "$PGDATA" -U postgres --auth=trust -E UTF8 --no-locale >"$WORK/initdb.log" 2>&1 \
  || { cat "$WORK/initdb.log"; exit 1; }
as_pg "$PG_BIN/pg_ctl" -D "$PGDATA" -l "$WORK/postgres.log" -w -t 60 \
  -o "-h 127.0.0.1 -p $PG_PORT -k $WORK -c max_connections=300 -c fsync=off -c full_page_writes=off" start >/dev/null \
  || { cat "$WORK/postgres.log"; exit 1; }
export VPP_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$PG_PORT/postgres"

log "checking the layering"
Scripts/check-layers
Scripts/check-layers --self-test >/dev/null || { Scripts/check-layers --self-test; exit 1; }

log "building"
swift build 2>&1 | grep -E "error|warning: .*\/(Modules|Apps|Tests)\/" || true

log "running swift test"
swift test --no-parallel "$@" 2>&1 | tee "$WORK/swift-test.log" | grep -vE '^(◇|↳|\[[0-9]+/[0-9]+\])' || true
status=${PIPESTATUS[0]}
exit "$status"
