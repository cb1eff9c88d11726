import Foundation
import Logging
import Synchronization
import Testing
import VPPDomain
import VPPTestSupport

@testable import VPPUseCases

/// A KMFDDM whose kept status reports the test writes (newest last), answering as ``DeclarationStatusReader``
/// documents: newest first, back to the fingerprint asked about; every read recorded.
final class ScriptedStatusReaders: DeclarationStatusReaderFactory, DeclarationStatusReader {
    let kept = Mutex<[String: [StoredStatusReport]]>([:])
    let reads = Mutex<[(enrollment: String, after: String?)]>([])
    let asked = Mutex<[String]>([])

    func keep(_ enrollmentID: String, _ report: Data, id: String) {
        kept.withLock { $0[enrollmentID, default: []].append(.init(report: report, fingerprint: id, receivedAt: nil)) }
    }

    var readEnrollments: [String] { reads.withLock { $0.map(\.enrollment) } }

    func reports(enrollmentID: String, after: String?, notBefore: Date?, limit: Int) async -> StatusReportRead {
        reads.withLock { $0.append((enrollmentID, after)) }
        let reports = kept.withLock { $0[enrollmentID] ?? [] }
        guard !reports.isEmpty else { return .none }
        return .reports(Array(reports.reversed().prefix { $0.fingerprint != after }.prefix(limit)))
    }

    func withStatusReader(
        url: String,
        apiKey: String,
        _ body: @Sendable (any DeclarationStatusReader) async throws -> PollDeclarationStatus.Outcome
    ) async throws -> PollDeclarationStatus.Outcome {
        asked.withLock { $0.append("\(url) \(apiKey)") }
        return try await body(self)
    }
}

/// Reading devices' declarative status back from KMFDDM (`PollDeclarationStatus`) on both databases: only for a
/// KMFDDM tenant, only enrollments whose joins are not settled, each report recorded once, and a polled
/// `Error.LicenseNotFound` heals like a posted one.
@Suite("Declarative status read back from KMFDDM: which enrollments, once per report (vppsim, both databases)")
struct DeclarationStatusPollTests {
    let heal = DeviceStatusHealTests()

    func poller(_ world: World, _ readers: ScriptedStatusReaders) -> PollDeclarationStatus {
        PollDeclarationStatus(
            store: world.store,
            clock: world.clock,
            secrets: world.ports.secrets,
            logger: Logger(label: "test"),
            readers: readers,
            record: world.useCases.recordDeviceStatus,
            interval: 60
        )
    }

    func useKMFDDM(_ world: World) async throws {
        try await world.useCases.configureAppDelivery.setPublisher(
            .system(world.tenant.id),
            .kmfddm,
            url: "http://127.0.0.1:9",
            apiKey: "ddm-key"
        )
    }

    /// Enrollments whose status read is armed (due at some time).
    func armed(_ world: World) async throws -> Int64 {
        try await world.sut.raw(
            "SELECT count(*) AS n FROM declaration_status_polls WHERE next_poll_at IS NOT NULL"
        ).first?.decode("n", as: Int64.self) ?? -1
    }

    @Test(
        """
        reads are armed only while the DDM server is KMFDDM: none for joins published otherwise, every unsettled \
        enrollment on switching to it, none after switching away
        """,
        arguments: StoreKind.allCases
    )
    func armedOnlyWhileKMFDDM(kind: StoreKind) async throws {
        try await withWorld(kind) { world in
            _ = try await heal.joined(world, 2)
            #expect(try await armed(world) == 0, "published by webhook (or none): nothing to read back")
            try await useKMFDDM(world)
            #expect(try await armed(world) == 2, "both unsettled enrollments, on switching to KMFDDM")
            _ = try await world.useCases.configureAppDelivery.setPublisher(
                .system(world.tenant.id),
                .pull,
                url: nil,
                apiKey: nil
            )
            #expect(try await armed(world) == 0, "no longer KMFDDM: no longer read")
        }
    }

    @Test(
        "nothing is read unless the DDM server is KMFDDM; a managed report verifies and settles; back-off for the rest",
        arguments: StoreKind.allCases
    )
    func readsUnsettledEnrollments(kind: StoreKind) async throws {
        try await withWorld(kind) { world in
            let setup = try await heal.joined(world, 2)
            let readers = ScriptedStatusReaders()
            readers.keep("UDID-0", DeviceStatusHealTests.report("managed"), id: "r1")
            let poll = poller(world, readers)
            // Declarations published by webhook (or none): KMFDDM is never asked, and no job is due for it.
            #expect(try await poll(world.tenant.id) == .init())
            #expect(readers.readEnrollments.isEmpty && readers.asked.withLock { $0.isEmpty })
            #expect(try await world.store.tenantsWithMDMWork(now: world.clock.now()).isEmpty)

            try await useKMFDDM(world)
            #expect(try await world.store.tenantsWithMDMWork(now: world.clock.now()) == [world.tenant.id])
            let first = try await poll(world.tenant.id)
            #expect(first.read == 2 && first.recorded == 1 && first.failed == 0)
            #expect(readers.asked.withLock { $0 } == ["http://127.0.0.1:9 ddm-key"])
            #expect(try await heal.join(world, setup.serials[0]).installState == .verified)
            #expect(try await heal.join(world, setup.serials[1]).installState == nil)
            // Not due again at once: UDID-1 found nothing, so it waits the interval; UDID-0 is settled.
            #expect(try await poll(world.tenant.id).read == 0)
            world.clock.advance(seconds: 61)
            let second = try await poll(world.tenant.id)
            #expect(second.read == 1 && readers.readEnrollments.suffix(1) == ["UDID-1"])
            // A second miss doubles the wait.
            world.clock.advance(seconds: 61)
            #expect(try await poll(world.tenant.id).read == 0)
            readers.keep("UDID-1", DeviceStatusHealTests.report("failed", reasons: ["Error.DownloadFailed"]), id: "r2")
            world.clock.advance(seconds: 60)
            #expect(try await poll(world.tenant.id).recorded == 1)
            #expect(try await heal.join(world, setup.serials[1]).installState == .error, "a failure keeps it open")
            readers.keep("UDID-1", DeviceStatusHealTests.report("managed"), id: "r3")
            world.clock.advance(seconds: 61)
            #expect(try await poll(world.tenant.id).recorded == 1, "only the new report")
            #expect(try await heal.join(world, setup.serials[1]).installState == .verified)
            world.clock.advance(seconds: 3600)
            #expect(try await poll(world.tenant.id).read == 0, "both settled: nothing is read")
            #expect(try await world.store.tenantsWithMDMWork(now: world.clock.now()).isEmpty)
        }
    }

    @Test(
        "a polled LicenseNotFound heals once: read again it starts no second heal; the re-publish re-reads it soon",
        arguments: StoreKind.allCases
    )
    func polledLicenceNotFoundHealsOnce(kind: StoreKind) async throws {
        try await withWorld(kind) { world in
            let setup = try await heal.joined(world, 1)
            try await world.simulator.dropAssignments(
                adamId: "408709785",
                serialNumbers: [setup.serials[0].value],
                at: setup.uid
            )
            try await useKMFDDM(world)
            let readers = ScriptedStatusReaders()
            readers.keep("UDID-0", DeviceStatusHealTests.notFound, id: "r1")
            let poll = poller(world, readers)
            let associates = await world.simulator.requestCount("assets/associate")
            #expect(try await poll(world.tenant.id).recorded == 1)
            try await world.settleEvents()
            #expect(await heal.held(world, setup.uid) == 1, "re-associated at Apple")
            var row = try await heal.join(world, setup.serials[0])
            #expect(row.healAttempts == 1 && row.healStep == .republishing, "\(row)")
            // The declaration goes out again: the enrollment is due at once, and reading the same report again
            // starts nothing (it was recorded).
            #expect(try await setup.deliver(world.tenant.id, owner: "a").republished == 1)
            world.clock.advance(seconds: 1)
            let again = try await poll(world.tenant.id)
            #expect(again.read == 1 && again.recorded == 0)
            #expect(readers.reads.withLock { $0.last?.after } == "r1")
            row = try await heal.join(world, setup.serials[0])
            #expect(row.healAttempts == 1 && row.healStep == .republished, "no second heal: \(row)")
            #expect(await world.simulator.requestCount("assets/associate") == associates + 1)
            readers.keep("UDID-0", DeviceStatusHealTests.report("managed"), id: "r2")
            world.clock.advance(seconds: 61)
            #expect(try await poll(world.tenant.id).recorded == 1)
            #expect(try await heal.join(world, setup.serials[0]).installState == .verified)
        }
    }
}
