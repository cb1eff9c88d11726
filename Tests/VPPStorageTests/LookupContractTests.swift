import Foundation
import Testing
import VPPDomain
import VPPSQLStore
import VPPTestSupport
import VPPUseCases

/// The bounded lookups that replaced whole-table reads on paths that run often: each returns exactly what it
/// names, in this tenant only, however many other rows the tables hold.
@Suite("Storage contract: bounded lookups (PostgreSQL and SQLite, same tests)")
struct LookupContractTests {
    static func app(_ adamID: String, pricing: PricingParam = .standard, revocable: Bool = true) -> Asset {
        Asset(
            key: AssetKey(adamID: adamID, pricingParam: pricing),
            productType: .app,
            platforms: [.iOS],
            isDeviceAssignable: true,
            isRevocable: revocable
        )
    }

    @Test(
        "apps(adamIDs:) reads just the named apps, every pricing, in chunks past the bind cap",
        arguments: StoreKind.allCases
    )
    func appsByAdamID(kind: StoreKind) async throws {
        try await withStore(kind) { sut in
            let (tenant, _) = try await seedTenant(sut.store)
            let (other, _) = try await seedTenant(sut.store, name: "Other")
            let many = (0..<1_500).map { Self.app(String(500_000 + $0)) }
            try await sut.store.inTenant(tenant.id) { (tx) async throws in
                try await tx.upsertApps(many + [Self.app("500001", pricing: .plus)])
            }
            try await sut.store.inTenant(other.id) { (tx) async throws in try await tx.upsertApps([Self.app("500002")])
            }
            try await sut.store.inTenant(tenant.id) { (tx) async throws in
                let found = try await tx.apps(adamIDs: ["500001", "500002", "500001", "999999"])
                #expect(
                    found.map(\.asset.key) == [
                        AssetKey(adamID: "500001", pricingParam: .plus), AssetKey(adamID: "500001"),
                        AssetKey(adamID: "500002"),
                    ]
                )
                #expect(try await tx.apps(adamIDs: []).isEmpty)
                // More names than one statement takes (1,000 per chunk), half of them unknown.
                let asked = (0..<3_000).map { String(500_000 + $0) }
                #expect(try await tx.apps(adamIDs: asked).count == 1_501)
            }
            try await sut.store.inTenant(other.id) { (tx) async throws in
                #expect(try await tx.apps(adamIDs: ["500001"]).isEmpty, "another tenant's apps are never found")
            }
        }
    }

    @Test(
        "apps(bundleIDs:) maps only apps whose metadata names the bundle; apps without metadata never match",
        arguments: StoreKind.allCases
    )
    func appsByBundleID(kind: StoreKind) async throws {
        try await withStore(kind) { sut in
            let (tenant, _) = try await seedTenant(sut.store)
            let (other, _) = try await seedTenant(sut.store, name: "Other")
            try await sut.store.inTenant(tenant.id) { (tx) async throws in
                try await tx.upsertApps([Self.app("1"), Self.app("2"), Self.app("3")])
                try await tx.setMetadata(
                    AppMetadata(name: "One", bundleID: "com.example.one"),
                    for: AssetKey(adamID: "1")
                )
                try await tx.setMetadata(AppMetadata(name: "Two", bundleID: nil), for: AssetKey(adamID: "2"))
            }
            try await sut.store.inTenant(other.id) { (tx) async throws in
                try await tx.upsertApps([Self.app("9")])
                try await tx.setMetadata(
                    AppMetadata(name: "Nine", bundleID: "com.example.nine"),
                    for: AssetKey(adamID: "9")
                )
            }
            try await sut.store.inTenant(tenant.id) { (tx) async throws in
                let found = try await tx.apps(bundleIDs: [
                    "com.example.one", "com.example.nine", "com.apple.mobilesafari",
                ])
                #expect(found.map(\.asset.key) == [AssetKey(adamID: "1")])
                #expect(found.first?.metadata?.name == "One")
                #expect(try await tx.apps(bundleIDs: []).isEmpty)
            }
        }
    }

    @Test(
        "appsMissingMetadata(limit:) lists only apps without metadata, at most limit, by Adam id",
        arguments: StoreKind.allCases
    )
    func appsMissingMetadata(kind: StoreKind) async throws {
        try await withStore(kind) { sut in
            let (tenant, _) = try await seedTenant(sut.store)
            let (other, _) = try await seedTenant(sut.store, name: "Other")
            try await sut.store.inTenant(tenant.id) { (tx) async throws in
                try await tx.upsertApps((1...5).map { Self.app("10\($0)") })
                try await tx.setMetadata(
                    AppMetadata(name: "Named", bundleID: "com.example.x"),
                    for: AssetKey(adamID: "102")
                )
                try await tx.setMetadata(AppMetadata(name: "Named"), for: keynote.key)
            }
            try await sut.store.inTenant(other.id) { (tx) async throws in try await tx.upsertApps([Self.app("100")]) }
            try await sut.store.inTenant(tenant.id) { (tx) async throws in
                let missing = try await tx.appsMissingMetadata(limit: 10).map(\.asset.key.adamID)
                #expect(missing == ["101", "103", "104", "105"])
                #expect(try await tx.appsMissingMetadata(limit: 2).map(\.asset.key.adamID) == ["101", "103"])
                #expect(try await tx.appsMissingMetadata(limit: 0).isEmpty)
                #expect(try await tx.appsMissingMetadata(limit: -1).isEmpty, "a negative limit reads nothing")
            }
        }
    }

    @Test(
        "pendingEvent(_:) finds one event; dueEvents(now:limit:) lists the due ones, longest-waiting first",
        arguments: StoreKind.allCases
    )
    func dueEvents(kind: StoreKind) async throws {
        try await withStore(kind) { sut in
            let (tenant, token) = try await seedTenant(sut.store)
            let (other, otherToken) = try await seedTenant(sut.store, name: "Other")
            @Sendable func event(_ id: String, _ token: ContentToken, due offset: TimeInterval) -> PendingAppleEvent {
                PendingAppleEvent(
                    eventID: id,
                    tokenID: token.id,
                    kind: "associate",
                    createdAt: now,
                    nextPollAt: now.addingTimeInterval(offset)
                )
            }
            try await sut.store.inTenant(tenant.id) { (tx) async throws in
                try await tx.insertPendingEvents([
                    event("later", token, due: 60), event("due-2", token, due: -10), event("due-1", token, due: -20),
                    event("due-now", token, due: 0),
                ])
            }
            try await sut.store.inTenant(other.id) { (tx) async throws in
                try await tx.insertPendingEvents([event("theirs", otherToken, due: -100)])
            }
            try await sut.store.inTenant(tenant.id) { (tx) async throws in
                #expect(try await tx.dueEvents(now: now, limit: 10).map(\.eventID) == ["due-1", "due-2", "due-now"])
                #expect(try await tx.dueEvents(now: now, limit: 2).map(\.eventID) == ["due-1", "due-2"])
                #expect(try await tx.pendingEvent("later")?.nextPollAt == now.addingTimeInterval(60))
                #expect(try await tx.pendingEvent("theirs") == nil, "another tenant's event is never found")
                #expect(try await tx.pendingEvent("nope") == nil)
            }
        }
    }

    @Test(
        "activeLicencesOfRetired() and activeLicences(serials:) find just the active licences they name",
        arguments: StoreKind.allCases
    )
    func licencesOfRetired(kind: StoreKind) async throws {
        try await withStore(kind) { sut in
            let (tenant, token) = try await seedTenant(sut.store)
            let (other, otherToken) = try await seedTenant(sut.store, name: "Other")
            let fixed = Self.app("777", revocable: false)
            let retiredUser = try ClientUserID("gone@acme")
            let activeUser = try ClientUserID("here@acme")
            @Sendable func row(
                _ tenant: Tenant,
                _ token: ContentToken,
                _ asset: AssetKey,
                _ who: Assignee,
                _ state: AssignmentState
            )
                -> Assignment
            {
                Assignment(tenantID: tenant.id, asset: asset, assignee: who, grantingToken: token.id, state: state)
            }
            let wanted = [
                row(tenant, token, keynote.key, .device(serial(1)), .active),
                row(tenant, token, keynote.key, .user(retiredUser), .active),
            ]
            try await sut.store.inTenant(tenant.id) { (tx) async throws in
                try await tx.upsertApps([fixed])
                try await tx.upsertDevices([
                    Device(tenantID: tenant.id, serialNumber: serial(1), isRetired: true),
                    Device(tenantID: tenant.id, serialNumber: serial(2), isRetired: true),
                    Device(tenantID: tenant.id, serialNumber: serial(3), isRetired: false),
                ])
                try await tx.upsertUsers([
                    try ManagedUser(tenantID: tenant.id, clientUserID: retiredUser, status: .retired),
                    try ManagedUser(tenantID: tenant.id, clientUserID: activeUser, status: .associated),
                ])
                try await tx.insertAssignments(
                    wanted + [
                        // Retired, but the licence is not active (in flight) or the app cannot be revoked.
                        row(tenant, token, keynote.key, .device(serial(2)), .pending(eventID: "e1")),
                        row(tenant, token, fixed.key, .device(serial(2)), .active),
                        // Active, but the holder is not retired (or not in the inventory at all).
                        row(tenant, token, keynote.key, .device(serial(3)), .active),
                        row(tenant, token, keynote.key, .device(serial(4)), .active),
                        row(tenant, token, keynote.key, .user(activeUser), .active),
                    ]
                )
            }
            try await sut.store.inTenant(other.id) { (tx) async throws in
                // The same serial retired in another tenant makes nothing of ours reclaimable.
                try await tx.upsertDevices([Device(tenantID: other.id, serialNumber: serial(3), isRetired: true)])
                try await tx.insertAssignments([row(other, otherToken, keynote.key, .device(serial(3)), .active)])
            }
            try await sut.store.inTenant(tenant.id) { (tx) async throws in
                let found = try await tx.activeLicencesOfRetired()
                #expect(Set(found.map(\.id)) == Set(wanted.map(\.id)))
            }
            try await sut.store.inTenant(tenant.id) { (tx) async throws in
                // Every app's active licence of the named devices; in-flight ones and other devices' are left out.
                let held = try await tx.activeLicences(serials: [serial(2), serial(3), serial(9)])
                #expect(Set(held.map(\.assignee)) == [.device(serial(2)), .device(serial(3))])
                #expect(held.map(\.asset).sorted() == [fixed.key, keynote.key].sorted())
                #expect(held.map(\.id) == held.map(\.id).sorted())
                #expect(try await tx.activeLicences(serials: []).isEmpty)
            }
            try await sut.store.inTenant(other.id) { (tx) async throws in
                #expect(try await tx.activeLicencesOfRetired().map(\.assignee) == [.device(serial(3))])
            }
        }
    }
}
