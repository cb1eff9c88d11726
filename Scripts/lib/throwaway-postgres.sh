# Sourced by Scripts/test.sh and the benchmarks: starts a throwaway PostgreSQL on 127.0.0.1 and a free
# port (as the `postgres` user when run as root, since PostgreSQL refuses root), exports its URL as
# VPP_TEST_DATABASE_URL, and stops it and removes its files on exit, failure or Ctrl-C.
# Needs: log() defined by the caller.

PG_BIN=""
for candidate in /usr/lib/postgresql/*/bin/pg_ctl "$(command -v pg_ctl 2>/dev/null || true)"; do
  if [ -n "$candidate" ] && [ -x "$candidate" ]; then PG_BIN=$(dirname "$candidate"); break; fi
done
if [ -z "$PG_BIN" ]; then
  log "PostgreSQL is not installed; installing it (apt-get install postgresql)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  PG_BIN=$(dirname "$(ls /usr/lib/postgresql/*/bin/pg_ctl | head -1)")
fi

PG_WORK=$(mktemp -d /tmp/vpp-pg.XXXXXX)
chmod 755 "$PG_WORK"
PGDATA="$PG_WORK/pgdata"
PG_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')

as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
if [ "$(id -u)" = 0 ]; then chown postgres "$PG_WORK"; fi

stop_postgres() {
  if [ -f "$PGDATA/postmaster.pid" ]; then
    as_pg "$PG_BIN/pg_ctl" -D "$PGDATA" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$PG_WORK"
}

log "starting PostgreSQL ($PG_BIN) on 127.0.0.1:$PG_PORT"
as_pg "$PG_BIN/initdb" -D "$PGDATA" -U postgres --auth=trust -E UTF8 --no-locale >"$PG_WORK/initdb.log" 2>&1 \
  || { cat "$PG_WORK/initdb.log"; exit 1; }
as_pg "$PG_BIN/pg_ctl" -D "$PGDATA" -l "$PG_WORK/postgres.log" -w -t 60 \
  -o "-h 127.0.0.1 -p $PG_PORT -k $PG_WORK -c max_connections=300 -c fsync=${PG_FSYNC:-off} -c full_page_writes=${PG_FSYNC:-off}" start >/dev/null \
  || { cat "$PG_WORK/postgres.log"; exit 1; }
export VPP_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$PG_PORT/postgres"
source "$(dirname "${BASH_SOURCE[0]}")/process-cpu.sh"
