import Foundation
import VPPDomain

/// One row of the licence report: an app on one token, or (token `nil`) the app's pool.
public struct LicenceReportRow: Sendable, Hashable, Encodable {
    public let adamID: String
    public let pricingParam: String
    public let name: String
    public let location: String
    public let tokenStatus: String
    public let total: Int
    public let assigned: Int
    public let available: Int
    public let retired: Int
}

/// Drift between Apple, our records and the device inventory, with the fix each finding proposes (in words no
/// face's syntax: `kind`, `adamID` and `assignee` are the facts a face turns into its own command).
public struct DriftFinding: Sendable, Hashable, Encodable {
    public enum Kind: String, Sendable, Encodable, CaseIterable {
        case orphaned, foreign, missing, failed
        /// A device reports an app vpp declares as `managed-but-uninstalled` (the user removed it).
        case uninstalled
    }
    public let kind: Kind
    public let adamID: String
    public let assignee: String
    public let location: String
    public let fix: String
}

/// Reports: licences per app and per token (table, JSON, CSV) and drift.
public struct Reports: Sendable {
    let store: any Store
    let clock: any Clock
    let apple: any AppleAppsAndBooks
    let tokenCredentials: TokenCredentials
    let poolReader: LicencePoolReader

    /// Takes only what this use case touches.
    public init(
        store: any Store,
        clock: any Clock,
        apple: any AppleAppsAndBooks,
        tokenCredentials: TokenCredentials,
        poolReader: LicencePoolReader
    ) {
        self.store = store
        self.clock = clock
        self.apple = apple
        self.tokenCredentials = tokenCredentials
        self.poolReader = poolReader
    }

    public func licences(_ caller: Caller) async throws -> [LicenceReportRow] {
        try caller.require(.read)
        let now = clock.now()
        let ours = try await tokenCredentials.holder(of: caller.tenantID)
        return try await store.inTenant(caller.tenantID) { tx in
            let tokens = Dictionary(uniqueKeysWithValues: try await tx.tokens().map { ($0.id, $0) })
            let apps = Dictionary(uniqueKeysWithValues: try await tx.apps().map { ($0.asset.key, $0) })
            let pools = try await poolReader.pools(tx, ours: ours)
            var rows: [LicenceReportRow] = []
            for (asset, group) in Dictionary(grouping: try await tx.counts(tokenID: nil), by: \.asset).sorted(by: {
                $0.key < $1.key
            }) {
                let name = apps[asset]?.metadata?.name ?? asset.adamID
                for row in group {
                    let token = tokens[row.tokenID]
                    rows.append(
                        LicenceReportRow(
                            adamID: asset.adamID,
                            pricingParam: asset.pricingParam.rawValue,
                            name: name,
                            location: token?.location.name ?? "?",
                            tokenStatus: token?.status(at: now, ourHolder: ours).code ?? "?",
                            total: row.counts.total,
                            assigned: row.counts.assigned,
                            available: row.counts.available,
                            retired: row.counts.retired
                        )
                    )
                }
                let pool = pools[asset]?.usableCounts ?? .zero
                rows.append(
                    LicenceReportRow(
                        adamID: asset.adamID,
                        pricingParam: asset.pricingParam.rawValue,
                        name: name,
                        location: "(pool)",
                        tokenStatus: "usable",
                        total: pool.total,
                        assigned: pool.assigned,
                        available: pool.available,
                        retired: pool.retired
                    )
                )
            }
            return rows
        }
    }

    /// Compares what Apple holds now (a live walk of every usable token) with our records and devices.
    public func drift(_ caller: Caller) async throws -> [DriftFinding] {
        try caller.require(.read)
        let now = clock.now()
        let ours = try await tokenCredentials.holder(of: caller.tenantID)
        let (tokens, devices, records, joins) = try await store.inTenant(caller.tenantID) { tx in
            (
                try await tx.tokens(), try await tx.devices(), try await tx.assignments(AssignmentQuery()),
                try await tx.declarationSetChanges(serial: nil, limit: 10_000)
            )
        }
        let known = Set(devices.filter { !$0.isRetired }.map(\.serialNumber.value))
        var findings: [DriftFinding] = []
        for token in tokens where token.status(at: now, ourHolder: ours).isUsable {
            let credentials = try await tokenCredentials.open(caller.tenantID, token.id)
            let apple = try await apple.assignments(credentials, filter: AppleAssignmentFilter()).items
            let granted = Set(
                records.filter { $0.grantingToken == token.id && $0.state.holdsLicence }
                    .map { "\($0.asset.adamID)|\($0.assignee.text)" }
            )
            for record in apple {
                guard case .serialNumber(let serial) = record.assignee else { continue }
                let key = "\(record.asset.adamID)|\(serial)"
                if !known.contains(serial) {
                    findings.append(
                        DriftFinding(
                            kind: .orphaned,
                            adamID: record.asset.adamID,
                            assignee: serial,
                            location: token.location.name,
                            fix: "Revoke app \(record.asset.adamID) from \(serial): the device is not in the inventory."
                        )
                    )
                } else if !granted.contains(key) {
                    findings.append(
                        DriftFinding(
                            kind: .foreign,
                            adamID: record.asset.adamID,
                            assignee: serial,
                            location: token.location.name,
                            fix: "Not granted through vpp: sync the token to adopt it, or revoke it."
                        )
                    )
                }
            }
        }
        let holding = Set(records.filter(\.state.holdsLicence).map { "\($0.asset.adamID)|\($0.assignee.text)" })
        for device in devices where !device.isRetired {
            for adamID in device.installedAdamIDs.sorted()
            where !holding.contains("\(adamID)|\(device.serialNumber.value)") {
                findings.append(
                    DriftFinding(
                        kind: .missing,
                        adamID: adamID,
                        assignee: device.serialNumber.value,
                        location: "-",
                        fix: "Installed without a licence: assign app \(adamID) to \(device.serialNumber.value)."
                    )
                )
            }
        }
        for record in records {
            if case .failed(let reason) = record.state {
                findings.append(
                    DriftFinding(
                        kind: .failed,
                        adamID: record.asset.adamID,
                        assignee: record.assignee.text,
                        location: tokens.first { $0.id == record.grantingToken }?.location.name ?? "?",
                        fix: "Apple refused (\(reason)); fix the cause and assign again."
                    )
                )
            }
        }
        // The device's own word, from its declarative status: a required app it no longer has.
        let byID = Dictionary(records.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        for join in joins
        where join.change.kind == .join && join.deviceState == ManagedAppState.managedButUninstalled.rawValue {
            let grantedBy = byID[join.change.assignmentID]?.grantingToken
            findings.append(
                DriftFinding(
                    kind: .uninstalled,
                    adamID: join.change.asset.adamID,
                    assignee: join.change.serialNumber,
                    location: tokens.first { $0.id == grantedBy }?.location.name ?? "?",
                    fix: "The device reports the app removed (managed-but-uninstalled): it installs it again at its "
                        + "next declaration evaluation, or remove the device from the app's scope."
                )
            )
        }
        return findings
    }

    /// CSV with a header row; fields quoted when needed and formula-like cells made text (``CSVCell``).
    public static func csv(_ rows: [LicenceReportRow]) -> String {
        var lines = ["adamId,pricingParam,name,location,tokenStatus,total,assigned,available,retired"]
        for r in rows {
            lines.append(
                CSVCell.line([
                    r.adamID, r.pricingParam, r.name, r.location, r.tokenStatus, "\(r.total)", "\(r.assigned)",
                    "\(r.available)", "\(r.retired)",
                ])
            )
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The drift report as CSV, written by the same rule as ``csv(_:)``.
    public static func driftCSV(_ findings: [DriftFinding]) -> String {
        var lines = ["kind,adamId,assignee,location,fix"]
        for f in findings { lines.append(CSVCell.line([f.kind.rawValue, f.adamID, f.assignee, f.location, f.fix])) }
        return lines.joined(separator: "\n") + "\n"
    }
}
