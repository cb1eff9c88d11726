import Foundation
import VPPUseCases

/// Spaces requests per key across every server sharing the database: one atomic upsert hands out the
/// next free slot (a "generic cell rate" schedule), then the caller sleeps until its slot.
struct SQLRequestLimiter: AppleRequestLimiter {
    let database: any SQLDatabase

    func acquire(key: String, perSecond: Int) async throws {
        guard perSecond > 0 else { return }
        let intervalMs = Int64((1000.0 / Double(perSecond)).rounded(.up))
        let nowMs = Int64((Date().timeIntervalSince1970 * 1000).rounded())
        let greatest = database.dialect.greatest
        let slotEnd = try await translatingDriverErrors {
            try await database.transaction { connection in
                try await connection.query(
                    """
                    INSERT INTO rate_limits (limit_key, next_slot) VALUES (\(key), \(nowMs + intervalMs))
                    ON CONFLICT (limit_key) DO UPDATE
                    SET next_slot = \(unescaped: greatest)(rate_limits.next_slot, \(nowMs)) + \(intervalMs)
                    RETURNING next_slot
                    """
                ).first?.decode("next_slot") ?? nowMs + intervalMs
            }
        }
        let slot = slotEnd - intervalMs
        let waitMs = slot - nowMs
        if waitMs > 0 { try await Task.sleep(for: .milliseconds(waitMs)) }
    }

    /// The database's failures as the store reports them (``StoreError/unavailable(_:)``), so the Apple client
    /// passes them on as database failures rather than mistaking them for its own transport's.
    private func translatingDriverErrors<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as SQLDriverError {
            throw SQLStore.translate(error)
        }
    }
}
