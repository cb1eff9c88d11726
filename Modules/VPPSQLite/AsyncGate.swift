/// A FIFO async lock: one SQLite transaction at a time per process (SQLite has one writer anyway;
/// queueing here avoids SQLITE_BUSY storms between our own tasks).
actor AsyncGate {
    private var locked = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func lock() async {
        if !locked {
            locked = true
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }

    func unlock() {
        if waiters.isEmpty { locked = false } else { waiters.removeFirst().resume() }
    }
}
