"""Summarises Scripts/bench-due-syncs.sh: reads `is_busy|waited_ms` lines, prints completion and waits."""
import sys

size, busy, total, replicas = (int(value) for value in sys.argv[1:5])
quiet, busy_waits = [], []
for line in sys.stdin:
    if not line.strip():
        continue
    is_busy, waited = line.strip().split("|")
    (busy_waits if is_busy == "t" else quiet).append(int(waited) / 1000)
quiet.sort()
nan = float("nan")


def pick(q):
    return quiet[min(len(quiet) - 1, int(q * len(quiet)))] if quiet else nan


synced = len(quiet) + len(busy_waits)
print(
    f"due-syncs[{size:>6} tenants + 1 with {busy} tokens, {replicas} replicas]: {synced}/{total} synced, all done in "
    f"{max(quiet + busy_waits, default=nan):.1f} s; quiet tenants wait p50 {pick(0.5):.1f} s, "
    f"p99 {pick(0.99):.1f} s, max {quiet[-1] if quiet else nan:.1f} s; "
    f"busy tenant's last token {max(busy_waits, default=nan):.1f} s"
)
