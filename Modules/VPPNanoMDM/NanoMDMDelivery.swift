import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import VPPDomain
import VPPUseCases

/// Device commands to NanoMDM (or NanoHUB): `PUT {url}/v1/enqueue/{enrollmentId}` with the raw XML plist,
/// HTTP Basic `nanomdm:<api key>` (NanoHUB: `{url}` ends in `/api/v1/nanomdm`, user `nanohub`). The push
/// is included (no `nopush`). NanoMDM answers 200 (all ids queued), 207 (some failed) or 500 (all
/// failed), with per-id errors in `status`; one id per request here, since each command has its own UUID.
public struct NanoMDMDelivery: DeviceCommandDelivery {
    let enqueueBase: String
    let authorization: String
    let client: HTTPClient
    let timeout: TimeAmount
    let concurrency: Int

    public init(
        url: String,
        apiKey: String,
        client: HTTPClient = MDMHTTPClient.shared,
        timeout: TimeAmount = .seconds(15),
        concurrency: Int = 8
    ) {
        let base = url.hasSuffix("/") ? String(url.dropLast()) : url
        let isHub = base.hasSuffix("/api/v1/nanomdm")
        enqueueBase = isHub ? base + "/enqueue/" : base + "/v1/enqueue/"
        authorization = "Basic " + Data("\(isHub ? "nanohub" : "nanomdm"):\(apiKey)".utf8).base64EncodedString()
        self.client = client
        self.timeout = timeout
        self.concurrency = concurrency
    }

    /// NanoMDM's `APIResult` (all fields optional).
    struct APIResult: Decodable {
        struct PerID: Decodable {
            let pushResult: String?
            let pushError: String?
            let commandError: String?

            enum CodingKeys: String, CodingKey {
                case pushResult = "push_result"
                case pushError = "push_error"
                case commandError = "command_error"
            }
        }

        let status: [String: PerID]?
        let pushError: String?
        let commandError: String?

        enum CodingKeys: String, CodingKey {
            case status
            case pushError = "push_error"
            case commandError = "command_error"
        }
    }

    public func deliver(_ commands: [OutgoingDeviceCommand]) async -> [UUID: DeliveryOutcome] {
        await withTaskGroup(of: (UUID, DeliveryOutcome).self) { group in
            var results: [UUID: DeliveryOutcome] = [:]
            var pending = commands[...]
            func start(_ command: OutgoingDeviceCommand) { group.addTask { (command.id, await deliver(command)) } }
            for _ in 0..<concurrency { if let next = pending.popFirst() { start(next) } }
            while let (id, outcome) = await group.next() {
                results[id] = outcome
                if let next = pending.popFirst() { start(next) }
            }
            return results
        }
    }

    func deliver(_ command: OutgoingDeviceCommand) async -> DeliveryOutcome {
        // An id of another shape (stored before ids were checked on the way in) is never sent; any id is
        // encoded as exactly one path segment, so it cannot step out of /v1/enqueue/.
        guard let id = try? EnrollmentID(command.enrollmentID) else {
            return .refused("enrollment id \"\(command.enrollmentID.prefix(60))\" has not the documented shape")
        }
        var request = HTTPClientRequest(url: enqueueBase + id.pathSegment)
        request.method = .PUT
        request.headers.add(name: "Authorization", value: authorization)
        request.headers.add(name: "Content-Type", value: "application/xml")
        request.body = .bytes(ByteBuffer(data: command.plist))
        do {
            let response = try await client.execute(request, timeout: timeout)
            let body = try await response.body.collect(upTo: 1 << 20)
            let result = try? JSONDecoder().decode(APIResult.self, from: Data(buffer: body))
            let perID = result?.status?[command.enrollmentID]
            let commandError = perID?.commandError ?? result?.commandError
            switch response.status.code {
            case 200:
                return .delivered
            case 401, 403:
                return .retry("NanoMDM refused the API key (HTTP \(response.status.code))")
            case 207, 500:
                guard let commandError, !commandError.isEmpty else {
                    // The command was queued; only the push failed: the device fetches it at its next check-in.
                    if response.status.code == 207 || perID != nil { return .delivered }
                    return .retry("NanoMDM answered 500\(result?.pushError.map { ": \($0)" } ?? "")")
                }
                // The CommandUUID is the table's key at NanoMDM: a duplicate means an earlier attempt got through.
                let lowered = commandError.lowercased()
                if lowered.contains("duplicate") || lowered.contains("already exists") || lowered.contains("unique") {
                    return .delivered
                }
                return .retry("NanoMDM could not queue the command: \(commandError.prefix(300))")
            default:
                let retryAfter = response.headers.first(name: "Retry-After").flatMap(TimeInterval.init)
                return .retry("NanoMDM answered HTTP \(response.status.code)", after: retryAfter)
            }
        } catch {
            return .retry("NanoMDM unreachable: \(String(describing: error).prefix(200))")
        }
    }
}

/// The process-wide HTTP client for MDM servers: a refused connection fails at once (our retry policy decides).
public enum MDMHTTPClient {
    public static let shared: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.timeout.connect = .seconds(5)
        configuration.redirectConfiguration = .disallow
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }()
}
