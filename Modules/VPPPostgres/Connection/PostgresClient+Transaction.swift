import Logging
import PostgresNIO

extension PostgresClient {
    /// Runs `body` in a transaction, rethrowing the body's own error rather than PostgresNIO's wrapper,
    /// so callers can match the typed errors they threw.
    func transaction<Result: Sendable>(
        logger: Logger,
        isolation: isolated (any Actor)? = #isolation,
        _ body: (PostgresConnection) async throws -> sending Result
    ) async throws -> sending Result {
        do {
            return try await withTransaction(logger: logger, isolation: isolation, body)
        } catch let error as PostgresTransactionError {
            if let closureError = error.closureError { throw closureError }
            throw error
        }
    }
}
