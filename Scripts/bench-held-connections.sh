#!/usr/bin/env bash
# Benchmark: /healthz while idle and slow connections are held open. One vppd on SQLite (no workers) with the
# connection cap CAP (512) and long header and idle timeouts (120 s, so nothing is closed by a deadline); HELD
# (1,000) connections are opened, half of them sending half a request head, then 18 probes ask for /healthz one
# after another: how many are answered within 1 s and 3 s, the slowest, and how many held connections remain.
#
#   Scripts/bench-held-connections.sh                 # debug build
#   CONFIG=release HELD=2000 Scripts/bench-held-connections.sh
set -euo pipefail
cd "$(dirname "$0")/.."
CONFIG=${CONFIG:-debug}
HELD=${HELD:-1000}
CAP=${CAP:-512}
swift build -c "$CONFIG" --product vppd 2>&1 | grep -E "error" || true
BIN=$(swift build -c "$CONFIG" --show-bin-path)
WORK=$(mktemp -d /tmp/vpp-bench-held.XXXXXX)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
ulimit -n $((HELD + 512)) 2>/dev/null || true
VPP_DATABASE_URL="sqlite://$WORK/vpp.sqlite" VPP_ENCRYPTION_KEY=$(head -c 32 /dev/urandom | base64) \
  VPP_LOG_LEVEL=error VPP_HTTP_HEADER_TIMEOUT=120 VPP_HTTP_IDLE_TIMEOUT=120 VPP_HTTP_MAX_CONNECTIONS="$CAP" \
  "$BIN/vppd" serve --port "$PORT" --no-workers &
VPPD=$!
trap 'kill "$VPPD" 2>/dev/null || true; wait "$VPPD" 2>/dev/null || true; rm -rf "$WORK"' EXIT
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
python3 - "$PORT" "$HELD" "$CAP" <<'PY'
import socket, sys, time
port, held, cap = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
holders = []
for i in range(held):
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=0.05)
        if i % 2 == 0:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHo")
        holders.append(s)
    except OSError:
        pass  # the server is not accepting: the backlog is full
time.sleep(1)
latencies = []
for _ in range(18):
    started, ok = time.time(), False
    try:
        probe = socket.create_connection(("127.0.0.1", port), timeout=3)
        probe.settimeout(3)
        probe.sendall(b"GET /healthz HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
        ok = probe.recv(100).startswith(b"HTTP/1.1 200")
        probe.close()
    except OSError:
        pass
    latencies.append((ok, time.time() - started))
    time.sleep(0.2)
open_ = 0
for s in holders:
    s.setblocking(False)
    try:
        open_ += 1 if s.recv(1) else 0
    except BlockingIOError:
        open_ += 1
    except OSError:
        pass
within = lambda limit: sum(1 for ok, seconds in latencies if ok and seconds < limit)
slowest = max(seconds for _, seconds in latencies)
print(f"cap {cap}, {held} held ({len(holders)} connected): /healthz within 1 s {within(1)}/18, within 3 s "
      f"{within(3)}/18, slowest {slowest:.3f} s; held connections still open {open_}")
PY
