# Sourced by the MDM benchmarks (bench-mdm.sh, bench-declarations.sh) after throwaway-postgres.sh: a work folder
# with the MDM API and webhook keys, free ports for vppsim, mdmsim and vppd, and one exit trap that stops every
# process in PIDS, then PostgreSQL, and removes the folder. Needs: BENCH_NAME (the work folder's prefix).
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
WORK=$(mktemp -d "/tmp/vpp-bench-$BENCH_NAME.XXXXXX")
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
