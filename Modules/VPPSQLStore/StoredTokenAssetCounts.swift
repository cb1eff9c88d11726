import VPPDomain

/// One `token_assets` row's numbers: the ledger's (`assigned`, `available`) beside Apple's last snapshot.
struct StoredTokenAssetCounts: Equatable {
    var total: Int
    var withheld: Int
    var assigned: Int
    var available: Int
    var retired: Int
    var unlisted: Int
    /// Apple's last `assignedCount` and `availableCount` (nil before migration 0013's first recount).
    var appleAssigned: Int?
    var appleAvailable: Int?

    init(
        total: Int,
        withheld: Int,
        assigned: Int,
        available: Int,
        retired: Int,
        unlisted: Int,
        appleAssigned: Int?,
        appleAvailable: Int?
    ) {
        self.total = total
        self.withheld = withheld
        self.assigned = assigned
        self.available = available
        self.retired = retired
        self.unlisted = unlisted
        self.appleAssigned = appleAssigned
        self.appleAvailable = appleAvailable
    }

    init(_ row: SQLRow) throws {
        self.init(
            total: try row.decode("total"),
            withheld: try row.decode("withheld"),
            assigned: try row.decode("assigned"),
            available: try row.decode("available"),
            retired: try row.decode("retired"),
            unlisted: try row.decode("unlisted"),
            appleAssigned: try row.decode("apple_assigned"),
            appleAvailable: try row.decode("apple_available")
        )
    }

    /// Whether Apple's numbers are those of the last recount (then the stored row needs no recount).
    func hasAppleNumbers(of apple: LicenceCounts) -> Bool {
        total == apple.total && retired == apple.retired && appleAssigned == apple.assigned
            && appleAvailable == apple.available
    }
}
