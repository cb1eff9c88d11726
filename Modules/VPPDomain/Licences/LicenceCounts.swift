import Foundation

/// Licence counts of one asset on one token, as Apple reports them.
public struct LicenceCounts: Hashable, Sendable, Codable {
    /// Apple reports unlimited (free) assets with this total.
    public static let unlimitedTotal = Int(Int32.max)

    public let total: Int
    public let assigned: Int
    public let available: Int
    public let retired: Int

    /// Validates Apple's numbers: none negative, and no more assigned or available than in total.
    public init(total: Int, assigned: Int, available: Int, retired: Int = 0) throws(LicenceError) {
        guard total >= 0, assigned >= 0, available >= 0, retired >= 0 else {
            throw .inconsistentCounts(
                "counts must not be negative (total \(total), assigned \(assigned), available \(available), retired "
                    + "\(retired))"
            )
        }
        guard assigned <= total, available <= total else {
            throw .inconsistentCounts("assigned \(assigned) or available \(available) exceeds total \(total)")
        }
        self.total = total
        self.assigned = assigned
        self.available = available
        self.retired = retired
    }

    /// No licences at all.
    public static let zero = try! LicenceCounts(total: 0, assigned: 0, available: 0)

    public var isUnlimited: Bool { total == Self.unlimitedTotal }

    /// These counts after `count` more licences were granted.
    public func granting(_ count: Int) throws(LicenceError) -> LicenceCounts {
        guard count <= available else { throw .inconsistentCounts("cannot grant \(count) of \(available) available") }
        return try LicenceCounts(
            total: total,
            assigned: assigned + count,
            available: available - count,
            retired: retired
        )
    }

    /// These counts after `count` licences came back.
    public func releasing(_ count: Int) throws(LicenceError) -> LicenceCounts {
        guard count <= assigned else { throw .inconsistentCounts("cannot release \(count) of \(assigned) assigned") }
        return try LicenceCounts(
            total: total,
            assigned: assigned - count,
            available: available + count,
            retired: retired
        )
    }

    /// Sums counts across tokens (saturating at the unlimited total).
    public static func + (lhs: LicenceCounts, rhs: LicenceCounts) -> LicenceCounts {
        func add(_ a: Int, _ b: Int) -> Int { min(a + b, unlimitedTotal) }
        // Sums of valid counts are valid; clamp keeps `available <= total` when totals saturate.
        let total = add(lhs.total, rhs.total)
        return try! LicenceCounts(
            total: total,
            assigned: min(add(lhs.assigned, rhs.assigned), total),
            available: min(add(lhs.available, rhs.available), total),
            retired: add(lhs.retired, rhs.retired)
        )
    }
}
