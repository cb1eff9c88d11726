import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Synchronization
import Testing
import VPPDomain
import VPPMDMSimulator
import VPPMDMWebhook
import VPPMicroMDM
import VPPNanoMDM
import VPPUseCases

/// The delivery adapters over real HTTP: NanoMDM's against mdmsim (built from the reference alone), the
/// MicroMDM and Standard Webhooks ones against small receivers that check what the specifications require.
@Suite("MDM delivery adapters over real HTTP")
struct DeliveryAdapterTests {
    static let logger: Logger = {
        var l = Logger(label: "test")
        l.logLevel = .critical
        return l
    }()

    static func command(_ enrollmentID: String, adamID: String = "408709785") throws -> OutgoingDeviceCommand {
        let command = DeviceCommand(
            serialNumber: "C02XK1JHJG5J",
            kind: .installApplication,
            adamID: adamID,
            createdAt: Date()
        )
        return OutgoingDeviceCommand(
            id: command.id,
            tenantID: TenantID(),
            serialNumber: command.serialNumber,
            enrollmentID: enrollmentID,
            requestType: .installApplication,
            adamID: adamID,
            plist: try MDMCommandPayload.plist(for: command, platform: .iOS, bundleID: nil),
            createdAt: Date()
        )
    }

    /// mdmsim with `count` enrolled devices (no webhook: nobody listens).
    static func withMDMSim(
        devices count: Int,
        _ body: (String, MDMSimulator, [MDMSimulator.SimDevice]) async throws -> Void
    ) async throws {
        let simulator = MDMSimulator(apiKey: "secret-key", logger: logger)
        let (port, task) = try await MDMSimulatorServer(simulator: simulator, logger: logger).start()
        let devices = await simulator.enroll(count: count, serialPrefix: "SIM", productName: "iPad13,4")
        do {
            try await body("http://127.0.0.1:\(port)", simulator, devices)
            task.cancel()
        } catch {
            task.cancel()
            throw error
        }
    }

    @Test(
        "NanoMDM: queued at the device's UDID; a redelivery of the same CommandUUID counts as delivered, never queued twice"
    )
    func nanoDelivered() async throws {
        try await Self.withMDMSim(devices: 3) { url, simulator, devices in
            let delivery = NanoMDMDelivery(url: url, apiKey: "secret-key")
            let commands = try devices.map { try Self.command($0.udid) }
            let results = await delivery.deliver(commands)
            #expect(commands.allSatisfy { results[$0.id] == .delivered })
            #expect(
                await delivery.deliver([commands[0]])[commands[0].id] == .delivered,
                "duplicate CommandUUID = already there"
            )
            let seen = await simulator.allDevices()
            for device in seen {
                #expect(
                    device.commands.count == 1 && device.commands[0].iTunesStoreID == 408_709_785
                        && device.commands[0].purchaseMethod == 1
                )
            }
            let stats = await simulator.stats
            #expect(stats.duplicatesRefused == 1 && stats.commandsQueued == 3)
        }
    }

    @Test(
        "NanoMDM: wrong key, down, 500, 207 partial, unknown enrollment and unreachable all retry with a reason; slow still delivers"
    )
    func nanoFaults() async throws {
        try await Self.withMDMSim(devices: 2) { url, simulator, devices in
            let wrongKey = NanoMDMDelivery(url: url, apiKey: "wrong")
            let first = try Self.command(devices[0].udid)
            guard case .retry(let reason, _) = await wrongKey.deliver([first])[first.id] else {
                Issue.record("wrong key delivered")
                return
            }
            #expect(reason.contains("401") && !reason.contains("wrong"), "the reason never repeats the key")

            let delivery = NanoMDMDelivery(url: url, apiKey: "secret-key")
            for mode in [MDMSimulator.Fault.down, .error500] {
                await simulator.setFault(mode, delayMilliseconds: 0)
                guard case .retry = await delivery.deliver([first])[first.id] else {
                    Issue.record("\(mode) delivered")
                    return
                }
            }
            await simulator.setFault(.partial207, delayMilliseconds: 0)
            let pair = try [Self.command(devices[0].udid), Self.command(devices[1].udid)]
            var outcomes: [DeliveryOutcome] = []
            for command in pair { outcomes.append(await delivery.deliver([command])[command.id]!) }
            #expect(
                outcomes.filter { $0 == .delivered }.count == 1,
                "207: the per-id error is a retry, the other delivered: \(outcomes)"
            )
            await simulator.setFault(.slow, delayMilliseconds: 300)
            #expect(await delivery.deliver([first])[first.id] == .delivered)
            await simulator.setFault(.none, delayMilliseconds: 0)
            let stranger = try Self.command("0000000000000000000000000000000000000000")
            guard case .retry(let unknown, _) = await delivery.deliver([stranger])[stranger.id] else {
                Issue.record("unknown id")
                return
            }
            #expect(unknown.contains("not found"))
            let nowhere = NanoMDMDelivery(url: "http://127.0.0.1:9", apiKey: "k")
            guard case .retry = await nowhere.deliver([first])[first.id] else {
                Issue.record("unreachable delivered")
                return
            }
        }
    }

    final class Seen: Sendable {
        let requests = Mutex<[(HTTPFields, Data)]>([])
        func withLock<T>(_ body: (inout [(HTTPFields, Data)]) -> T) -> T { requests.withLock { body(&$0) } }
    }

    /// A receiver on a real port: answers `status` and records requests.
    static func withReceiver(
        _ status: @escaping @Sendable (Int) -> HTTPResponse.Status,
        _ body: (String, Seen) async throws -> Void
    ) async throws {
        let seen = Seen()
        let router = Router()
        let handler: @Sendable (Request, BasicRequestContext) async throws -> Response = { request, _ in
            var request = request
            let data = Data(buffer: try await request.collectBody(upTo: 1 << 20))
            let count = seen.withLock {
                $0.append((request.headers, data))
                return $0.count
            }
            return Response(status: status(count), body: .init(byteBuffer: .init(string: "{\"error\": \"nope\"}")))
        }
        router.post("/hook", use: handler)
        router.post("/v1/commands/{udid}", use: handler)
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
        let task = Task { try await app.run() }
        var iterator = stream.makeAsyncIterator()
        let port = try #require(await iterator.next())
        do {
            try await body("http://127.0.0.1:\(port)", seen)
            task.cancel()
        } catch {
            task.cancel()
            throw error
        }
    }

    @Test(
        "Standard Webhooks: signature verifies per the spec over id.timestamp.body; webhook-id stable across retries; 410 disables"
    )
    func standardWebhooks() async throws {
        let secretBytes = (0..<32).map { _ in UInt8.random(in: 0...255) }
        let secret = "whsec_" + Data(secretBytes).base64EncodedString()
        try await Self.withReceiver({ $0 == 1 ? .serviceUnavailable : ($0 == 2 ? .noContent : .gone) }) { url, seen in
            let delivery = try StandardWebhookDelivery(url: url + "/hook", secret: secret)
            let command = try Self.command("UDID-1")
            guard case .retry(let reason, _) = await delivery.deliver([command])[command.id] else {
                Issue.record("503 delivered")
                return
            }
            #expect(reason.contains("503"))
            #expect(await delivery.deliver([command])[command.id] == .delivered)
            let requests = seen.withLock { $0 }
            #expect(requests.count == 2)
            let ids = requests.map { $0.0[HTTPField.Name("webhook-id")!] }
            #expect(ids[0] == ids[1] && ids[0] != nil, "the receiver's idempotency key is the same on a retry")
            for (headers, body) in requests {
                let id = try #require(headers[HTTPField.Name("webhook-id")!])
                let timestamp = try #require(headers[HTTPField.Name("webhook-timestamp")!].flatMap(Int.init))
                #expect(abs(Double(timestamp) - Date().timeIntervalSince1970) < 300)
                let signature = try #require(headers[HTTPField.Name("webhook-signature")!])
                let expected = HMAC<SHA256>.authenticationCode(
                    for: Data("\(id).\(timestamp).".utf8) + body,
                    using: SymmetricKey(data: secretBytes)
                )
                #expect(signature == "v1," + Data(expected).base64EncodedString())
                let event = try #require(try JSONSerialization.jsonObject(with: body) as? [String: Any])
                #expect(event["type"] as? String == "device_command.created")
                let data = try #require(event["data"] as? [String: Any])
                #expect(
                    data["commandUUID"] as? String == command.id.uuidString.uppercased()
                        && data["enrollmentId"] as? String == "UDID-1"
                )
                #expect(Data(base64Encoded: data["plist"] as? String ?? "") == command.plist)
            }
            let later = try Self.command("UDID-2")
            // A transport hiccup on a loaded machine (a timeout) is a retry, not the answer under test: ask again.
            var outcome = await delivery.deliver([later])[later.id]
            for _ in 0..<3 {
                guard case .retry = outcome else { break }
                outcome = await delivery.deliver([later])[later.id]
            }
            guard case .endpointGone = outcome else {
                Issue.record("410 not honoured: \(String(describing: outcome))")
                return
            }
        }
        #expect(throws: StandardWebhookDelivery.BadSecret.self) {
            try StandardWebhookDelivery(url: "http://x", secret: "not-a-secret")
        }
    }

    @Test(
        "MicroMDM: POST /v1/commands/{udid} with Basic micromdm:<key> and the raw plist; 201 delivers, errors retry with the message"
    )
    func microMDM() async throws {
        try await Self.withReceiver({ $0 == 1 ? .created : .internalServerError }) { url, seen in
            let delivery = MicroMDMDelivery(url: url, apiKey: "mm-key")
            let command = try Self.command("UDID-9")
            #expect(await delivery.deliver([command])[command.id] == .delivered)
            guard case .retry(let reason, _) = await delivery.deliver([command])[command.id] else {
                Issue.record("500 delivered")
                return
            }
            #expect(reason.contains("500") && reason.contains("nope"))
            let (headers, body) = try #require(seen.withLock { $0.first })
            #expect(headers[.authorization] == "Basic " + Data("micromdm:mm-key".utf8).base64EncodedString())
            #expect(body == command.plist)
        }
    }
}
