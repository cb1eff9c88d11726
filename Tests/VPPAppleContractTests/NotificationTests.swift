import Foundation
import Hummingbird
import Synchronization
import Testing
import VPPAppleClient
import VPPAppleSimulator
import VPPDomain
import VPPUseCases

/// A real HTTP endpoint that records what the simulator POSTs to it.
final class NotificationReceiver: Sendable {
    struct Received: Sendable {
        let authorization: String?
        let json: [String: String]
        let body: Data
    }

    let received = Mutex<[Received]>([])
    private let task = Mutex<Task<Void, any Error>?>(nil)

    func start() async throws -> String {
        let router = Router()
        router.post("/apple/notifications/{tokenId}") { [self] request, _ -> HTTPResponse.Status in
            var request = request
            let body = Data(buffer: try await request.collectBody(upTo: 1 << 20))
            let object = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:]
            let flat = object.compactMapValues { $0 as? String }
            received.withLock {
                $0.append(Received(authorization: request.headers[.authorization], json: flat, body: body))
            }
            return .ok
        }
        let (stream, continuation) = AsyncStream<Int>.makeStream()
        let app = Application(
            router: router,
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: {
                continuation.yield($0.localAddress?.port ?? 0)
                continuation.finish()
            }
        )
        task.withLock { $0 = Task { try await app.run() } }
        var iterator = stream.makeAsyncIterator()
        let port = await iterator.next() ?? 0
        return "http://127.0.0.1:\(port)/apple/notifications/token-1"
    }

    func stop() async {
        let running = task.withLock { $0 }
        running?.cancel()
        _ = await running?.result
    }

    func types() -> [String] { received.withLock { $0.compactMap { $0.json["notificationType"] } } }

    func waitFor(_ type: String, count: Int = 1) async throws {
        for _ in 0..<300 where types().filter({ $0 == type }).count < count {
            try await Task.sleep(for: .milliseconds(10))
        }
    }
}

@Suite("Apple client ↔ simulator: notifications")
struct NotificationTests {
    @Test("configuring notifications sends TEST_NOTIFICATION with our bearer; events then notify ASSET_MANAGEMENT")
    func notifications() async throws {
        let receiver = NotificationReceiver()
        let url = try await receiver.start()
        defer { Task { await receiver.stop() } }
        try await withBench { bench in
            let settings = AppleNotificationSettings(
                url: url,
                authToken: "n0tif-s3cret",
                types: ["ASSET_MANAGEMENT", "ASSET_COUNT"]
            )
            let config = try await bench.client.updateClientConfig(
                bench.anonymousHolderCredentials,
                holder: ourHolder,
                notifications: settings
            )
            #expect(
                config.notificationURL == url
                    && config.subscribedNotificationTypes == ["ASSET_MANAGEMENT", "ASSET_COUNT"]
            )
            #expect(receiver.types() == ["TEST_NOTIFICATION"])
            #expect(receiver.received.withLock { $0.first?.authorization } == "Bearer n0tif-s3cret")
            #expect(receiver.received.withLock { $0.first?.json["uId"] } == bench.locationUID)

            let tickets = try await bench.client.associate(
                bench.credentials,
                assets: [AssetKey(adamID: "408709785")],
                serialNumbers: ["C02XK1JHJG5J"],
                clientUserIDs: []
            )
            try await receiver.waitFor("ASSET_MANAGEMENT")
            let body = try #require(receiver.received.withLock { $0.last?.body })
            let object = try #require(try JSONSerialization.jsonObject(with: body) as? [String: Any])
            let notification = try #require(object["notification"] as? [String: Any])
            #expect(notification["eventId"] as? String == tickets[0].eventID)
            #expect(notification["result"] as? String == "SUCCESS" && notification["type"] as? String == "ASSOCIATE")
            #expect(
                (notification["assignments"] as? [[String: Any]])?.first?["serialNumber"] as? String == "C02XK1JHJG5J"
            )
            #expect(object["notificationId"] is String)
        }
    }

    @Test("an unreachable notification URL is refused with 9728 and changes nothing")
    func unreachable() async throws {
        try await withBench { bench in
            let settings = AppleNotificationSettings(
                url: "http://127.0.0.1:1/hook",
                authToken: "x",
                types: ["ASSET_MANAGEMENT"]
            )
            await #expect(throws: AppleAPIError.apple(errorNumber: 9728, message: "Notification URL unreachable")) {
                _ = try await bench.client.updateClientConfig(
                    bench.anonymousHolderCredentials,
                    holder: ourHolder,
                    notifications: settings
                )
            }
            let config = try await bench.client.clientConfig(bench.anonymousHolderCredentials)
            #expect(config.notificationURL == nil && config.context.holder == nil)
        }
    }
}
