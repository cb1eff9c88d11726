import Foundation
import Testing
import VPPDomain
import VPPSQLStore
import VPPTestSupport
import VPPUseCases

/// For each migration N: migrate to N−1, seed rows, apply N, check the old rows survived and the new
/// schema works — on both databases.
@Suite("Each migration, step by step")
struct MigrationStepTests {
    static let tenantID = UUID()

    /// Applies the rest of the migrations to a store created at `version`.
    static func migrateRest(_ sut: StoreUnderTest) async throws {
        switch sut.kind {
        case .postgres:
            try await TestDatabase.withClient(url: sut.url) { client in
                _ = try await VPPPostgresMigrate.migrate(client)
            }
        case .sqlite:
            // The SQLite store under test already holds the open database.
            _ = try await VPPSQLiteMigrate.migrate(sut.database)
        }
    }

    @Test("0001 → 0002: tenants survive; tokens, apps and licences work", arguments: StoreKind.allCases)
    func step2(kind: StoreKind) async throws {
        try await withStore(kind, upTo: 1) { sut in
            _ = try await sut.raw(
                """
                INSERT INTO tenants (tenant_id, name, holder_id, holder_name, holder_metadata, created_at)
                VALUES (\(Self.tenantID), 'Acme', 'h', 'vpp', 'm', 0)
                """
            )
            try await Self.migrateRest(sut)
            let tenant = try #require(try await sut.store.tenant(TenantID(Self.tenantID)))
            #expect(tenant.name == "Acme")
            try await sut.store.inTenant(tenant.id) { (tx) async throws in
                let token = makeToken(tenant.id)
                try await tx.insertToken(token, secret: SealedSecret(keyID: "k", ciphertext: [1]))
                try await tx.upsertApps([keynote])
                try await tx.replaceCounts(tokenID: token.id, [keynote.key: counts(3)])
                #expect(try await tx.reserve(keynote.key, from: token.id, count: 3))
            }
        }
    }

    @Test("0002 → 0003: tokens survive; devices, outboxes and audit work", arguments: StoreKind.allCases)
    func step3(kind: StoreKind) async throws {
        try await withStore(kind, upTo: 2) { sut in
            let (tenant, token) = try await seedAtOldVersion(sut)
            try await Self.migrateRest(sut)
            try await sut.store.inTenant(tenant.id) { (tx) async throws in
                #expect(try await tx.token(token.id) == token)
                try await tx.upsertDevices([Device(tenantID: tenant.id, serialNumber: serial(1))])
                #expect(
                    try await tx.enqueueNotice(
                        Notice(
                            tokenID: token.id,
                            kind: .expired,
                            tokenExpiresAt: token.expiresAt,
                            recipients: [],
                            subject: "s",
                            body: "b",
                            nextAttemptAt: now
                        )
                    )
                )
                try await tx.appendAudit(AuditRecord(at: now, actor: "a", action: "b", target: "c", outcome: "ok"))
            }
        }
    }

    @Test("0003 → 0004: audit survives; jobs and the rate limiter work", arguments: StoreKind.allCases)
    func step4(kind: StoreKind) async throws {
        try await withStore(kind, upTo: 3) { sut in
            let (tenant, _) = try await seedAtOldVersion(sut)
            try await sut.store.inTenant(tenant.id) { (tx) async throws in
                try await tx.appendAudit(AuditRecord(at: now, actor: "a", action: "b", target: "c", outcome: "ok"))
            }
            try await Self.migrateRest(sut)
            try await sut.store.inTenant(tenant.id) { (tx) async throws in
                #expect(try await tx.auditLog(limit: 5).count == 1)
            }
            #expect(
                try await sut.store.jobs.enqueue(
                    JobRequest(tenantID: tenant.id, kind: .sync, key: JobKey(rawValue: "t"), runAt: now)
                )
            )
            try await sut.store.requestLimiter.acquire(key: "k", perSecond: 15)
        }
    }

    @Test("the SQLite flavour of every migration only renames types")
    func sqliteFlavour() {
        for migration in allSQLMigrations {
            let postgres = migration.statements(for: .postgres)
            let sqlite = migration.statements(for: .sqlite)
            #expect(
                sqlite.count <= postgres.count,
                "SQLite skips only the PostgreSQL-only statements (row-level security)"
            )
            for statement in sqlite {
                #expect(
                    !statement.contains("uuid") && !statement.contains("bytea") && !statement.contains("boolean")
                        && !statement.contains("bigint")
                )
            }
        }
    }
}

@Suite("Migration 0005")
struct MigrationStep5Tests {
    @Test("0004 → 0005: tokens survive; notification secrets, dedupe and leases work", arguments: StoreKind.allCases)
    func step5(kind: StoreKind) async throws {
        try await withStore(kind, upTo: 4) { sut in
            let (tenant, token) = try await seedAtOldVersion(sut)
            try await MigrationStepTests.migrateRest(sut)
            try await sut.store.inTenant(tenant.id) { (tx) async throws in
                #expect(try await tx.token(token.id) == token)
                #expect(try await tx.notificationSecret(token.id) == nil)
                try await tx.setNotificationSecret(token.id, secret: SealedSecret(keyID: "k", ciphertext: [4, 2]))
                #expect(try await tx.notificationSecret(token.id) == SealedSecret(keyID: "k", ciphertext: [4, 2]))
                #expect(try await tx.markNotificationProcessed("n-1", type: "ASSET_COUNT", at: now))
                #expect(try await !tx.markNotificationProcessed("n-1", type: "ASSET_COUNT", at: now))
            }
            #expect(
                try await sut.store.acquireLease(
                    tenant: tenant.id,
                    name: "sync:\(token.id)",
                    owner: "a",
                    now: now,
                    ttl: 60
                )
            )
            #expect(
                try await !sut.store.acquireLease(
                    tenant: tenant.id,
                    name: "sync:\(token.id)",
                    owner: "b",
                    now: now.addingTimeInterval(30),
                    ttl: 60
                )
            )
            #expect(
                try await sut.store.acquireLease(
                    tenant: tenant.id,
                    name: "sync:\(token.id)",
                    owner: "b",
                    now: now.addingTimeInterval(61),
                    ttl: 60
                )
            )
            try await sut.store.releaseLease(tenant: tenant.id, name: "sync:\(token.id)", owner: "b")
            #expect(
                try await sut.store.acquireLease(
                    tenant: tenant.id,
                    name: "sync:\(token.id)",
                    owner: "c",
                    now: now,
                    ttl: 60
                )
            )
            #expect(try await sut.store.jobs.depth() == 0, "leases are not jobs")
            #expect(
                try await sut.store.jobs.claim(owner: "w", now: now.addingTimeInterval(1e9), lease: 60, limit: 10)
                    .isEmpty
            )
        }
    }
}

@Suite("Migration 0006")
struct MigrationStep6Tests {
    @Test(
        "0005 → 0006: rows survive and the store keeps working under row-level security",
        arguments: StoreKind.allCases
    )
    func step6(kind: StoreKind) async throws {
        try await withStore(kind, upTo: 5) { sut in
            let (tenant, token) = try await seedAtOldVersion(sut)
            try await MigrationStepTests.migrateRest(sut)
            try await sut.store.inTenant(tenant.id) { (tx) async throws in
                #expect(try await tx.token(token.id) == token)
                #expect(try await tx.reserve(keynote.key, from: token.id, count: 1))
            }
            #expect(try await sut.store.tenant(named: "Acme")?.id == tenant.id)
        }
    }
}

/// A tenant with one token carrying keynote, written with only the columns every version has (the
/// current store's count reconciliation needs columns of later migrations).
func seedAtOldVersion(_ sut: StoreUnderTest) async throws -> (Tenant, ContentToken) {
    let tenant = makeTenant("Acme")
    try await sut.store.createTenant(tenant)
    let token = makeToken(tenant.id)
    try await sut.store.inTenant(tenant.id) { (tx) async throws in
        try await tx.insertToken(token, secret: SealedSecret(keyID: "k1", ciphertext: [1, 2, 3]))
        try await tx.upsertApps([keynote])
    }
    _ = try await sut.raw(
        """
        INSERT INTO token_assets (tenant_id, token_id, adam_id, pricing, total, assigned, available, retired)
        VALUES (\(tenant.id), \(token.id), \(keynote.key.adamID), 'STDQ', 10, 0, 10, 0)
        """
    )
    return (tenant, token)
}
