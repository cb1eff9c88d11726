#!/usr/bin/env bash
# Benchmark: a full asset + assignment walk of 200 pages against vppsim with Apple's 15 rps limit on.
# Prints the wall time, its ratio to the 200/15 s minimum (target <= 1.1) and the client's peak RSS.
set -euo pipefail
cd "$(dirname "$0")/.."
CONFIG=${CONFIG:-release}
swift build -c "$CONFIG" --product vppsim >/dev/null
swift build -c "$CONFIG" --product vppbench >/dev/null
BIN=$(swift build -c "$CONFIG" --show-bin-path)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
"$BIN/vppsim" serve --port "$PORT" --rate-limit 15 --log-level warning &
SIM=$!
trap 'kill $SIM 2>/dev/null || true' EXIT
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$PORT/mdm/v2/service/config" >/dev/null 2>&1 && break; sleep 0.1; done
"$BIN/vppbench" apple-walk --simulator "http://127.0.0.1:$PORT" --page-size 100 --asset-pages 100 --assignment-pages 100 --rate 15
