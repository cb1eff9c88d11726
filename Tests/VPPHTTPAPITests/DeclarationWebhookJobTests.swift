import Foundation
import HTTPTypes
import Hummingbird
import NIOFoundationCompat
import Logging
import Synchronization
import Testing
import VPPComposition
import VPPDomain
import VPPTestSupport
import VPPUseCases

/// The webhook kind through the whole delivery path: the tenant's setting, the job, the composition's factory
/// behind the outbound guard, and a receiver on a real port.
@Suite("Declarations by webhook through the delivery job (both databases)")
struct DeclarationWebhookJobTests {
    final class Received: Sendable {
        let events = Mutex<[(signature: String, body: Data)]>([])
    }

    @Test(
        "webhook kind: the job sends declaration.published before the joins, signed; the changes are done",
        arguments: StoreKind.allCases
    )
    func job(kind: StoreKind) async throws {
        let received = Received()
        let router = Router()
        router.post("/hook") { request, _ -> Response in
            var request = request
            let body = Data(buffer: try await request.collectBody(upTo: 1 << 20))
            let signature = request.headers[HTTPField.Name("webhook-signature")!] ?? ""
            received.events.withLock { $0.append((signature, body)) }
            return Response(status: .ok, body: .init(byteBuffer: .init(string: "{}")))
        }
        var logger = Logger(label: "receiver")
        logger.logLevel = .critical
        let (stream, continuation) = AsyncStream<Int>.makeStream()
        let app = Application(
            router: router,
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: {
                continuation.yield($0.localAddress?.port ?? 0)
                continuation.finish()
            },
            logger: logger
        )
        let server = Task { try await app.run() }
        defer { server.cancel() }
        var iterator = stream.makeAsyncIterator()
        let port = try #require(await iterator.next())
        try await withWorld(kind) { world in
            let serials = try await world.addDevices(2)
            try await world.store.inTenant(world.tenant.id) { tx in
                for serial in serials {
                    try await tx.saveEnrollment(
                        serial,
                        MDMEnrollment(state: .enrolled, enrollmentID: "UDID-\(serial.value)", platform: .iOS)
                    )
                }
                try await tx.enqueueDeclarationSetChanges(
                    serials.map {
                        DeclarationSetChange(
                            serialNumber: $0.value,
                            asset: AssetKey(adamID: "408709785"),
                            licenceKind: .device,
                            kind: .join,
                            assignmentID: AssignmentID(),
                            createdAt: world.clock.now()
                        )
                    }
                )
            }
            let secret = try await world.useCases.configureAppDelivery.setPublisher(
                .system(world.tenant.id),
                .webhook,
                url: "http://127.0.0.1:\(port)/hook",
                apiKey: nil
            )
            #expect(secret?.hasPrefix("whsec_") == true)
            let outcome = try await DeliverDeclarations(
                store: world.store,
                clock: world.clock,
                secrets: world.ports.secrets,
                logger: world.ports.logger,
                publishers: MDMDeliveries(policy: world.settings.outboundPolicy)
            )(world.tenant.id, owner: "a")
            #expect(outcome.joined == 2 && outcome.failed == 0)
            let events = received.events.withLock { $0 }
            let types = events.map {
                ((try? JSONSerialization.jsonObject(with: $0.body)) as? [String: Any])?["type"] as? String ?? ""
            }
            #expect(types == ["declaration.published", "declaration_set.joined", "declaration_set.joined"])
            #expect(events.allSatisfy { $0.signature.hasPrefix("v1,") })
            let records = try await world.useCases.configureAppDelivery.setChanges(world.admin, serial: nil)
            #expect(records.count == 2 && records.allSatisfy { $0.state == "done" })
        }
    }
}
