import Foundation
import VPPDomain

/// How long an app's licences last at the current pace.
public struct Forecast: Sendable {
    public let asset: AssetKey
    public let name: String?
    public let total: Int
    /// What the pool can grant now (Apple's available less what Apple has not seen yet).
    public let available: Int
    /// Devices and users its scopes want that wait for a licence.
    public let waiting: Int
    /// Net licences granted per day over the last 30 days (grants less returns).
    public let netPerDay: Double
    /// When the pool runs out at that pace: now if devices already wait; nil if it is not shrinking.
    public let exhaustsOn: Date?
    public let alert: AppAlert?
    /// Whether the alert level is crossed now.
    public let belowAlert: Bool

    /// "Keynote: 12 left, about 4 days at the current pace; 9 devices waiting".
    public var sentence: String {
        var text = "\(name ?? asset.description): \(available) left"
        if let exhaustsOn, waiting == 0 {
            let days = max(0, Int((exhaustsOn.timeIntervalSinceNow / 86_400).rounded()))
            text += ", about \(days) day\(days == 1 ? "" : "s") at the current pace"
        } else if waiting == 0 {
            text += ", not shrinking at the current pace"
        }
        if waiting > 0 { text += "; \(waiting) waiting" }
        return text
    }
}

/// The forecast of an app's licences and its alert level.
public struct AppForecast: Sendable {
    static let window: TimeInterval = 30 * 86_400
    let store: any Store
    let clock: any Clock
    let tokenCredentials: TokenCredentials
    let poolReader: LicencePoolReader

    public init(store: any Store, clock: any Clock, tokenCredentials: TokenCredentials, poolReader: LicencePoolReader) {
        self.store = store
        self.clock = clock
        self.tokenCredentials = tokenCredentials
        self.poolReader = poolReader
    }

    public func callAsFunction(_ caller: Caller, _ asset: AssetKey, waiting: Int) async throws -> Forecast {
        try caller.require(.read)
        let now = clock.now()
        let ours = try await tokenCredentials.holder(of: caller.tenantID)
        return try await store.inTenant(caller.tenantID) { tx in
            guard let app = try await tx.app(asset) else { throw StoreError.unknownApp(asset) }
            let counts = try await poolReader.pool(tx, asset, ours: ours).usableCounts
            let net = try await tx.netGrants(asset, since: now.addingTimeInterval(-Self.window))
            let perDay = Double(net) / (Self.window / 86_400)
            let exhausts: Date? =
                if waiting > 0 || counts.available == 0 {
                    now
                } else if perDay > 0 {
                    now.addingTimeInterval(Double(counts.available) / perDay * 86_400)
                } else {
                    nil
                }
            let alert = try await tx.alert(asset)
            let below = alert.map { counts.available < max(1, $0.threshold(total: counts.total)) } ?? false
            return Forecast(
                asset: asset,
                name: app.metadata?.name,
                total: counts.total,
                available: counts.available,
                waiting: waiting,
                netPerDay: perDay,
                exhaustsOn: exhausts,
                alert: alert,
                belowAlert: below
            )
        }
    }

    /// Sets the app's alert level (`below` licences left, or `belowPercent` of its total).
    public func setAlert(_ caller: Caller, _ asset: AssetKey, below: Int?, belowPercent: Int?) async throws -> AppAlert
    {
        try caller.require(.manageLicences)
        guard below != nil || belowPercent != nil else {
            throw UseCaseError.badAlert("name below (licences) or belowPercent (1 to 100)")
        }
        if let below, below < 0 { throw UseCaseError.badAlert("below must be 0 or more") }
        if let belowPercent, !(1...100).contains(belowPercent) {
            throw UseCaseError.badAlert("belowPercent must be 1 to 100")
        }
        return try await store.inTenant(caller.tenantID) { tx in
            guard try await tx.app(asset) != nil else { throw StoreError.unknownApp(asset) }
            let alert = AppAlert(asset: asset, below: below, belowPercent: belowPercent)
            try await tx.upsertAlert(alert)
            return alert
        }
    }

    /// Licences in use at the end of each of the last `days` UTC days (today last), rebuilt from the ledger's
    /// own history: today's use less each later day's net grants.
    public func history(_ caller: Caller, _ asset: AssetKey, days: Int = 90) async throws -> [UsagePoint] {
        try caller.require(.read)
        let now = clock.now()
        let ours = try await tokenCredentials.holder(of: caller.tenantID)
        let today = Int(now.timeIntervalSince1970 / 86_400)
        return try await store.inTenant(caller.tenantID) { tx in
            let counts = try await poolReader.pool(tx, asset, ours: ours).usableCounts
            let daily = try await tx.dailyNetGrants(
                asset,
                since: Date(timeIntervalSince1970: Double(today - days + 1) * 86_400)
            )
            var used = max(0, counts.total - counts.available)
            var points: [UsagePoint] = []
            for day in stride(from: today, to: today - days, by: -1) {
                points.append(UsagePoint(day: Date(timeIntervalSince1970: Double(day) * 86_400), used: max(0, used)))
                used -= daily[day] ?? 0
            }
            return points.reversed()
        }
    }
}

/// Licences in use at the end of one day.
public struct UsagePoint: Hashable, Sendable {
    public let day: Date
    public let used: Int
}
