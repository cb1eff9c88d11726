import AsyncHTTPClient
import Foundation
import Logging
import NIOCore

/// POSTs Apple's notifications to the MDM's `notificationUrl` with `Authorization: Bearer <notificationAuthToken>`.
struct SimNotifier: Sendable {
    let logger: Logger

    /// Fails fast on a refused connection (HTTPClient.shared would keep retrying until the deadline),
    /// so an unreachable URL is reported as Apple does, with 9728.
    static let httpClient: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.timeout.connect = .seconds(3)
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }()

    /// Tries up to `attempts` times; any 2xx counts as delivered.
    func deliver(url: String, bearer: String, envelope: [String: Any], attempts: Int) async -> Bool {
        guard let body = try? JSONSerialization.data(withJSONObject: envelope, options: [.sortedKeys]) else {
            return false
        }
        let type = envelope["notificationType"] as? String ?? "?"
        for attempt in 1...max(1, attempts) {
            var request = HTTPClientRequest(url: url)
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            request.headers.add(name: "Authorization", value: "Bearer \(bearer)")
            request.body = .bytes(ByteBuffer(bytes: body))
            do {
                let response = try await Self.httpClient.execute(request, timeout: .seconds(5))
                _ = try? await response.body.collect(upTo: 64 * 1024)
                if (200..<300).contains(Int(response.status.code)) {
                    logger.debug("notification delivered", metadata: ["type": "\(type)", "attempt": "\(attempt)"])
                    return true
                }
            } catch {
                logger.debug(
                    "notification failed",
                    metadata: ["type": "\(type)", "attempt": "\(attempt)", "error": "\(error)"]
                )
            }
            if attempt < attempts { try? await Task.sleep(for: .milliseconds(100 * attempt)) }
        }
        logger.warning("notification not delivered", metadata: ["type": "\(type)"])
        return false
    }
}
