# Sourced by Scripts/lib/throwaway-postgres.sh: the CPU the benchmark's processes spent, read from /proc.

# cpu_seconds PID…: user + system CPU seconds the processes (and their exited, reaped children) used so far.
cpu_seconds() {
  python3 - "$@" <<'PY'
import os, sys
tick = os.sysconf("SC_CLK_TCK"); total = 0
for pid in sys.argv[1:]:
    try: fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    except OSError: continue
    total += sum(int(f) for f in fields[11:15])
print(f"{total / tick:.2f}")
PY
}

# postgres_pids: the throwaway cluster's postmaster and its children (backends, WAL writer, checkpointer…).
postgres_pids() { echo "$(head -1 "$PGDATA/postmaster.pid") $(ps -o pid= --ppid "$(head -1 "$PGDATA/postmaster.pid")")"; }
