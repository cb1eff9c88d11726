import Foundation

/// One numbered, forward-only schema change, compiled into the binary.
public struct PostgresMigration: Sendable {
    public let version: Int
    public let name: String
    /// Statements run in order, in one transaction with the bookkeeping row.
    public let statements: [String]

    public init(version: Int, name: String, statements: [String]) {
        self.version = version
        self.name = name
        self.statements = statements
    }
}

/// Every migration this build knows, in order. Append only: never edit or reorder a released one.
public let allPostgresMigrations: [PostgresMigration] = [
    migration0001Tenants,
]
