import Foundation
import Testing
import VPPDomain
import VPPSQLStore
import VPPTestSupport
import VPPUseCases

@Suite("Paged reads: devices by serial, audit newest first (PostgreSQL and SQLite)")
struct PagingTests {
    /// Serials in two prefixes ("SNA…" and "SNB…"); every third retired, every fourth enrolled.
    static func seedDevices(_ store: some Store, tenant: TenantID, range: Range<Int>) async throws -> [Device] {
        let devices = range.map { i in
            Device(
                tenantID: tenant,
                serialNumber: try! SerialNumber(String(format: "SN%@%06d", i % 2 == 0 ? "A" : "B", i)),
                name: "d\(i)",
                isRetired: i % 3 == 0
            )
        }
        try await store.inTenant(tenant) { (tx) async throws in
            try await tx.upsertDevices(devices)
            for device in devices where device.serialNumber.value.hasSuffix("0") || device.name!.hasSuffix("4") {
                try await tx.saveEnrollment(device.serialNumber, MDMEnrollment(state: .enrolled, lastSeenAt: now))
            }
        }
        return try await store.inTenant(tenant) { (tx) async throws in try await tx.devices(devices.map(\.serialNumber))
        }
    }

    /// Every page of devices after another, with `between` run before each page after the first.
    static func allDevicePages(
        _ store: some Store,
        tenant: TenantID,
        limit: Int,
        prefix: String?,
        enrolled: Bool?,
        retired: Bool,
        between: @Sendable (Int) async throws -> Void = { _ in }
    ) async throws -> [Device] {
        var all: [Device] = []
        var after: SerialNumber?
        for page in 0... {
            if page > 0 { try await between(page) }
            let cursor = after
            let found = try await store.inTenant(tenant) { (tx) async throws in
                try await tx.devicePage(
                    after: cursor,
                    limit: limit,
                    filter: DeviceFilter(serialPrefix: prefix, enrolled: enrolled, includeRetired: retired)
                )
            }
            #expect(found.count <= limit)
            all += found
            guard found.count == limit, let last = found.last else { return all }
            after = last.serialNumber
        }
        return all
    }

    @Test("device pages concatenate to exactly the filtered inventory, in serial order", arguments: StoreKind.allCases)
    func devicePages(kind: StoreKind) async throws {
        try await withStore(kind) { sut in
            let (tenant, _) = try await seedTenant(sut.store)
            let (other, _) = try await seedTenant(sut.store, name: "Other")
            let seeded = try await Self.seedDevices(sut.store, tenant: tenant.id, range: 0..<61)
            _ = try await Self.seedDevices(sut.store, tenant: other.id, range: 0..<61)
            for prefix in [nil, "SNA", "sna00001", "SNB0000", "SNC", "SNA000060", "SNA0000601"] {
                for enrolled in [nil, true, false] {
                    for retired in [true, false] {
                        let expected = seeded.filter { device in
                            (prefix.map { device.serialNumber.value.hasPrefix($0.uppercased()) } ?? true)
                                && (enrolled.map {
                                    ($0 && device.enrollment.state == .enrolled)
                                        || (!$0 && device.enrollment.state != .enrolled)
                                } ?? true)
                                && (retired || !device.isRetired)
                        }.sorted { $0.serialNumber < $1.serialNumber }
                        for limit in [1, 7, 100] {
                            let paged = try await Self.allDevicePages(
                                sut.store,
                                tenant: tenant.id,
                                limit: limit,
                                prefix: prefix,
                                enrolled: enrolled,
                                retired: retired
                            )
                            #expect(
                                paged == expected,
                                "prefix \(prefix ?? "-") enrolled \(enrolled.map(String.init) ?? "-") retired \(retired) limit \(limit)"
                            )
                        }
                    }
                }
            }
        }
    }

    @Test("devices added or removed between pages never make a page repeat or skip one", arguments: StoreKind.allCases)
    func devicePagesWhileWriting(kind: StoreKind) async throws {
        try await withStore(kind) { sut in
            let (tenant, _) = try await seedTenant(sut.store)
            let seeded = try await Self.seedDevices(sut.store, tenant: tenant.id, range: 0..<40)
            let store = sut.store
            let paged = try await Self.allDevicePages(
                store,
                tenant: tenant.id,
                limit: 6,
                prefix: nil,
                enrolled: nil,
                retired: true
            ) { page in
                // New serials on both sides of any cursor (before the first, between, after the last).
                _ = try await Self.seedDevices(store, tenant: tenant.id, range: (1000 + page * 10)..<(1003 + page * 10))
                try await store.inTenant(tenant.id) { (tx) async throws in
                    try await tx.upsertDevices([
                        Device(tenantID: tenant.id, serialNumber: try SerialNumber("SN0000000\(page)"), name: "early")
                    ])
                }
            }
            let serials = paged.map(\.serialNumber)
            #expect(serials == serials.sorted() && Set(serials).count == serials.count, "in order, no repeat")
            #expect(Set(seeded.map(\.serialNumber)).isSubset(of: Set(serials)), "no device present throughout skipped")
        }
    }

    @Test("a prefix is a range on the primary key (PostgreSQL plans an index scan, no LIKE)")
    func prefixUsesIndex() async throws {
        try await withStore(.postgres) { sut in
            let (tenant, _) = try await seedTenant(sut.store)
            _ = try await Self.seedDevices(sut.store, tenant: tenant.id, range: 0..<20)
            let plan = try await sut.database.transaction { connection in
                try await connection.query("SET LOCAL enable_seqscan = off")
                return try await connection.query(
                    """
                    EXPLAIN SELECT serial FROM devices WHERE tenant_id = \(tenant.id)
                    AND serial >= \("SNA") AND serial < \("SNA\u{10FFFF}") ORDER BY serial LIMIT 10
                    """
                ).map { try $0.decode("QUERY PLAN", as: String.self) }.joined(separator: "\n")
            }
            #expect(plan.contains("Index") && plan.contains("serial >=") && !plan.contains("Sort"), "\(plan)")
        }
    }

    static func audit(_ i: Int, at: Date) -> AuditRecord {
        AuditRecord(
            at: at,
            actor: i % 2 == 0 ? "alice" : "key:ci",
            action: ["assign", "revoke", "token.renew"][i % 3],
            target: "t\(i)",
            outcome: "ok",
            detail: "n\(i)"
        )
    }

    static func allAuditPages(
        _ store: some Store,
        tenant: TenantID,
        limit: Int,
        filter: AuditFilter,
        between: @Sendable (Int) async throws -> Void = { _ in }
    ) async throws -> [AuditRecord] {
        var all: [AuditRecord] = []
        var cursor: AuditCursor?
        for page in 0... {
            if page > 0 { try await between(page) }
            let before = cursor
            let found = try await store.inTenant(tenant) { (tx) async throws in
                try await tx.auditPage(before: before, limit: limit, filter: filter)
            }
            #expect(found.count <= limit)
            all += found
            guard found.count == limit, let last = found.last else { return all }
            cursor = AuditCursor(after: last)
        }
        return all
    }

    @Test(
        "audit pages: newest first, ties broken by id, filtered by time/actor/action; writes between pages hide none",
        arguments: StoreKind.allCases
    )
    func auditPages(kind: StoreKind) async throws {
        try await withStore(kind) { sut in
            let (tenant, _) = try await seedTenant(sut.store)
            let (other, _) = try await seedTenant(sut.store, name: "Other")
            // Five records share each second, so pages split ties.
            let records = (0..<53).map { Self.audit($0, at: now.addingTimeInterval(Double($0 / 5))) }
            for id in [tenant.id, other.id] {
                try await sut.store.inTenant(id) { (tx) async throws in
                    for record in records { try await tx.appendAudit(record) }
                }
            }
            let newestFirst: (AuditRecord, AuditRecord) -> Bool = {
                $0.at != $1.at ? $0.at > $1.at : $0.id.uuidString.lowercased() > $1.id.uuidString.lowercased()
            }
            let filters = [
                AuditFilter(), AuditFilter(actor: "alice"), AuditFilter(action: "revoke"),
                AuditFilter(since: now.addingTimeInterval(2), until: now.addingTimeInterval(8)),
                AuditFilter(since: now.addingTimeInterval(3), actor: "key:ci", action: "assign"),
                AuditFilter(actor: "nobody"),
            ]
            let store = sut.store
            for filter in filters {
                let expected = records.filter { record in
                    (filter.since.map { record.at >= $0 } ?? true) && (filter.until.map { record.at < $0 } ?? true)
                        && (filter.actor.map { record.actor == $0 } ?? true)
                        && (filter.action.map { record.action == $0 } ?? true)
                }.sorted(by: newestFirst)
                for limit in [1, 4, 1000] {
                    let paged = try await Self.allAuditPages(store, tenant: tenant.id, limit: limit, filter: filter)
                    #expect(paged == expected, "\(filter) limit \(limit)")
                }
            }
            // Writes between pages: newer records (an ongoing log) and records at an existing time.
            let before = try await Self.allAuditPages(store, tenant: tenant.id, limit: 1000, filter: AuditFilter())
            let during = try await Self.allAuditPages(store, tenant: tenant.id, limit: 5, filter: AuditFilter()) {
                page in
                try await store.inTenant(tenant.id) { (tx) async throws in
                    try await tx.appendAudit(Self.audit(page, at: now.addingTimeInterval(1000 + Double(page))))
                    try await tx.appendAudit(Self.audit(page, at: now.addingTimeInterval(5)))
                }
            }
            let ids = during.map(\.id)
            #expect(Set(ids).count == ids.count, "no repeat")
            #expect(Set(before.map(\.id)).isSubset(of: Set(ids)), "none skipped")
            #expect(during == during.sorted(by: newestFirst), "order kept across pages")
        }
    }
}
