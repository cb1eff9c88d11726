import Foundation
import Testing
import VPPAppleSimulator
import VPPDomain
import VPPTestSupport
import VPPUseCases

@Suite("Token lifecycle, end to end (simulator over HTTP, real store)")
struct TokenLifecycleTests {
    @Test(
        """
        upload validates with Apple, claims, stores encrypted, syncs apps and counts; a second upload of the \
        location says renew
        """,
        arguments: StoreKind.allCases
    )
    func upload(kind: StoreKind) async throws {
        try await withWorld(kind) { (world) async throws in
            let (file, uid) = try await world.location("Main Campus", assets: [keynoteSim, bookSim])
            let result = try await world.useCases.uploadToken(
                world.admin,
                file: file,
                noticeRecipients: ["it@acme.example"]
            )
            let token = try #require(result.token)
            #expect(result.stored && result.status.code == "active" && result.otherHolder == nil)
            #expect(result.sync?.assets == 2)
            #expect(
                await world.simulator.snapshot(of: uid)?.mdmInfo?.id == world.tenant.holderIdentity.id,
                "claimed with our mdmInfo"
            )
            let apps = try await world.store.inTenant(world.tenant.id) { (tx) async throws in try await tx.apps() }
            #expect(apps.map(\.asset.key.adamID).sorted() == ["408709785", "900000001"])
            #expect(
                apps.first { $0.asset.key.adamID == "408709785" }?.metadata?.name == "Keynote",
                "metadata looked up"
            )
            let overview = try await world.useCases.listTokens(world.reader)
            #expect(overview.map(\.token.id) == [token.id] && overview[0].status.code == "active")
            await #expect(throws: StoreError.duplicateLocation(locationName: "Main Campus")) {
                _ = try await world.useCases.uploadToken(world.admin, file: file)
            }
            let audit = try await world.store.inTenant(world.tenant.id) { (tx) async throws in
                try await tx.auditLog(limit: 10)
            }
            #expect(audit.contains { $0.action == "token.upload" && $0.outcome == "ok" && $0.actor == "ana" })
            #expect(audit.contains { $0.action == "token.upload" && $0.outcome == "refused" })
        }
    }

    @Test(
        "only Application Management Full Control may upload; a refusal writes nothing",
        arguments: StoreKind.allCases
    )
    func permissions(kind: StoreKind) async throws {
        try await withWorld(kind) { (world) async throws in
            let (file, uid) = try await world.location("Main Campus", assets: [keynoteSim])
            await #expect(throws: AccessDenied.self) {
                _ = try await world.useCases.uploadToken(world.reader, file: file)
            }
            #expect(try await world.useCases.listTokens(world.reader).isEmpty)
            #expect(await world.simulator.snapshot(of: uid)?.mdmInfo == nil, "nothing claimed at Apple")
        }
    }

    @Test("bad files are refused by name and change nothing", arguments: StoreKind.allCases)
    func badFiles(kind: StoreKind) async throws {
        try await withWorld(kind) { (world) async throws in
            await #expect(throws: TokenFileError.notBase64) {
                _ = try await world.useCases.uploadToken(world.admin, file: Data("nope!".utf8))
            }
            let forged = Data(#"{"token":"x","expDate":"2099-01-01T00:00:00Z","orgName":"o"}"#.utf8).base64EncodedData()
            await #expect(throws: AppleAPIError.tokenInvalid(errorNumber: 9622)) {
                _ = try await world.useCases.uploadToken(world.admin, file: forged)
            }
            #expect(try await world.useCases.listTokens(world.reader).isEmpty)
        }
    }

    @Test(
        """
        a token held by Apple Configurator is stored as in use elsewhere, grants nothing, and is taken over only \
        on confirmation
        """,
        arguments: StoreKind.allCases
    )
    func inUseElsewhereAndTakeOver(kind: StoreKind) async throws {
        try await withWorld(kind) { (world) async throws in
            let (file, uid) = try await world.location("Lab", assets: [keynoteSim], holder: .appleConfigurator)
            try await world.simulator.seedAssignments(
                adamId: "408709785",
                serialNumbers: ["AC2DEVICE01", "AC2DEVICE02"],
                at: uid
            )
            let preview = try await world.useCases.uploadToken(
                world.admin,
                file: file,
                takeOver: true,
                dryRun: true
            )
            #expect(
                !preview.stored && preview.otherHolder?.isAppleConfigurator == true
                    && preview.takeOverPreview?.count == 2
            )
            let upload = try await world.useCases.uploadToken(world.admin, file: file)
            let token = try #require(upload.token)
            #expect(upload.stored && upload.status == .inUseElsewhere(holder: upload.otherHolder!))
            #expect(
                await world.simulator.snapshot(of: uid)?.mdmInfo?.name == "Apple Configurator 2",
                "nothing written at Apple"
            )
            await #expect(throws: UseCaseError.self) {
                _ = try await world.useCases.syncToken(world.admin, tokenID: token.id)
            }
            await #expect(throws: UseCaseError.self) {
                _ = try await world.useCases.takeOverToken(world.admin, tokenID: token.id, confirm: false)
            }
            let done = try await world.useCases.takeOverToken(world.admin, tokenID: token.id, confirm: true)
            #expect(done.applied && done.licencesToRevoke.count == 2)
            #expect(await world.simulator.snapshot(of: uid)?.mdmInfo?.id == world.tenant.holderIdentity.id)
            try await Task.sleep(for: .milliseconds(100))
            #expect(
                await world.simulator.snapshot(of: uid)?.assignmentCount == 0,
                "the other holder's licences were revoked"
            )
            #expect(try await world.useCases.listTokens(world.reader)[0].status.code == "active")
        }
    }

    @Test("another tenant of this deployment holding the token is named", arguments: [StoreKind.postgres])
    func otherTenant(kind: StoreKind) async throws {
        try await withWorld(kind) { (world) async throws in
            let (file, _) = try await world.location("Shared", assets: [keynoteSim])
            let other = makeTenant("Other District")
            try await world.store.createTenant(other)
            let otherAdmin = Caller(tenantID: other.id, admin: Admin(tenantID: other.id, name: "oz", role: .mdmAdmin))
            _ = try await world.useCases.uploadToken(otherAdmin, file: file)
            let result = try await world.useCases.uploadToken(world.admin, file: file)
            #expect(result.otherTenantName == "Other District" && result.status.code == "in_use_elsewhere")
        }
    }

    @Test(
        """
        renew: another location's file is refused naming both; the right one replaces secret and expiry and clears \
        revoked
        """,
        arguments: StoreKind.allCases
    )
    func renew(kind: StoreKind) async throws {
        try await withWorld(kind) { (world) async throws in
            let (file, uid) = try await world.location("Main Campus", assets: [keynoteSim], validDays: 20)
            let token = try #require(try await world.useCases.uploadToken(world.admin, file: file).token)
            let (otherFile, _) = try await world.location("Annex", assets: [])
            await #expect(throws: UseCaseError.wrongLocation(expected: "Main Campus", got: "Annex")) {
                _ = try await world.useCases.renewToken(world.admin, tokenID: token.id, file: otherFile)
            }
            await world.simulator.revokeTokens(of: uid)
            await #expect(throws: AppleAPIError.tokenRevoked) {
                _ = try await world.useCases.syncToken(world.admin, tokenID: token.id)
            }
            #expect(try await world.useCases.listTokens(world.reader)[0].status.code == "revoked")
            let fresh = Data(
                try await world.simulator.mintToken(
                    for: uid,
                    expiresAt: world.clock.now().addingTimeInterval(365 * 86_400)
                ).utf8
            )
            let renewed = try await world.useCases.renewToken(world.admin, tokenID: token.id, file: fresh)
            #expect(renewed.revokedAt == nil && renewed.expiresAt > token.expiresAt)
            let overview = try await world.useCases.listTokens(world.reader)[0]
            #expect(overview.status.code == "active")
            _ = try await world.useCases.syncToken(world.admin, tokenID: token.id)
        }
    }

    @Test(
        "expiry notices at 30/15/7/1 days and on expiry, each once per token and expiry, restarting after renewal",
        arguments: StoreKind.allCases
    )
    func notices(kind: StoreKind) async throws {
        try await withWorld(kind) { (world) async throws in
            let (file, uid) = try await world.location("Main Campus", assets: [keynoteSim], validDays: 40)
            let token = try #require(
                try await world.useCases.uploadToken(
                    world.admin,
                    file: file,
                    noticeRecipients: ["it@acme.example"]
                ).token
            )
            let plan = world.useCases.planNotices
            #expect(try await plan(world.tenant.id).isEmpty, "40 days left: nothing yet")
            var kinds: [Notice.Kind] = []
            for days in [11.0, 0.5, 0.5, 3, 3, 4] {  // → 29, 28.5, 28, 25, 22, 18 … days left
                world.clock.advance(days: days)
                kinds += try await plan(world.tenant.id).map(\.kind)
            }
            #expect(kinds == [.expiresIn30Days])
            world.clock.advance(days: 5)  // 13 left
            let second = world.useCases.planNotices
            async let a = plan(world.tenant.id)
            async let b = second(world.tenant.id)
            #expect(try await (a + b).map(\.kind) == [.expiresIn15Days], "two servers at once: one notice")
            world.clock.advance(days: 6.5)  // 6.5 left
            #expect(try await plan(world.tenant.id).map(\.kind) == [.expiresIn7Days])
            world.clock.advance(days: 6)
            #expect(try await plan(world.tenant.id).map(\.kind) == [.expiresIn1Day])
            world.clock.advance(days: 1)
            #expect(try await plan(world.tenant.id).map(\.kind) == [.expired])
            let delivered = try await world.useCases.deliverNotices(world.tenant.id)
            let allNotices = try await world.store.inTenant(world.tenant.id) { (tx) async throws in
                try await tx.notices()
            }
            #expect(delivered == 5, "\(allNotices.map { ($0.kind, $0.lastError ?? "-", $0.sentAt != nil) })")
            #expect(world.mailer.sent.withLock { $0.map(\.to) }.allSatisfy { $0 == ["it@acme.example"] })
            #expect(try await world.useCases.deliverNotices(world.tenant.id) == 0, "sent once")
            let fresh = Data(
                try await world.simulator.mintToken(
                    for: uid,
                    expiresAt: world.clock.now().addingTimeInterval(20 * 86_400)
                ).utf8
            )
            _ = try await world.useCases.renewToken(world.admin, tokenID: token.id, file: fresh)
            #expect(try await plan(world.tenant.id).map(\.kind) == [.expiresIn30Days], "renewal restarts the cycle")
        }
    }

    @Test(
        """
        removal: plan first, then exactly the plan — re-licensing from a token with licences left, uninstalling \
        the rest
        """,
        arguments: StoreKind.allCases
    )
    func removal(kind: StoreKind) async throws {
        try await withWorld(kind) { (world) async throws in
            let (fileA, uidA) = try await world.location(
                "A",
                assets: [SimAsset(adamId: "408709785", totalCount: 4), pagesSim],
                validDays: 300
            )
            let (fileB, uidB) = try await world.location(
                "B",
                assets: [SimAsset(adamId: "408709785", totalCount: 1)],
                validDays: 100
            )
            let tokenA = try #require(try await world.useCases.uploadToken(world.admin, file: fileA).token)
            _ = try await world.useCases.uploadToken(world.admin, file: fileB)
            let serials = try await world.addDevices(3, installed: ["408709785", "361309726"])
            let assign = world.useCases.assignLicences.polling(firstAfter: 0)
            _ = try await assign(world.admin, asset: AssetKey(adamID: "408709785"), to: serials.map { .device($0) })
            _ = try await assign(world.admin, asset: AssetKey(adamID: "361309726"), to: [.device(serials[0])])
            try await world.settleEvents()
            let remove = world.useCases.removeToken
            let plan = try await remove.plan(world.admin, tokenID: tokenA.id)
            #expect(plan.appsLeaving == [AssetKey(adamID: "361309726")])
            #expect(
                plan.licencesToRevoke.count == 4,
                "3 Keynote + 1 Pages granted by A (A expires last, so it granted first)"
            )
            #expect(plan.relicences.count == 1, "B has one Keynote licence left")
            #expect(plan.uninstalls.count == 3, "2 Keynote without a licence elsewhere + Pages")
            try await remove.apply(world.admin, plan: plan)
            try await world.settleEvents()
            try await Task.sleep(for: .milliseconds(100))
            #expect(try await world.useCases.listTokens(world.reader).map(\.token.location.name) == ["B"])
            let commands = try await world.store.inTenant(world.tenant.id) { (tx) async throws in
                try await tx.deviceCommands()
            }
            #expect(commands.filter { $0.kind == .removeApplication }.count == 3)
            #expect(await world.simulator.snapshot(of: uidA)?.assignmentCount == 0, "revoked at Apple")
            #expect(await world.simulator.snapshot(of: uidB)?.assignmentCount == 1, "re-licensed from B")
            let apps = try await world.store.inTenant(world.tenant.id) { (tx) async throws in try await tx.apps() }
            #expect(apps.map(\.asset.key.adamID) == ["408709785"])
        }
    }
}
