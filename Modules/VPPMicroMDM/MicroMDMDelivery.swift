import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import VPPDomain
import VPPUseCases

/// Device commands to MicroMDM: `POST {url}/v1/commands/{udid}` with the raw plist, HTTP Basic
/// `micromdm:<api key>`; 201 means queued (MicroMDM pushes by itself), errors come as `{"error": "…"}`.
public struct MicroMDMDelivery: DeviceCommandDelivery {
    let base: String
    let authorization: String
    let client: HTTPClient
    let timeout: TimeAmount
    let concurrency: Int

    public init(
        url: String,
        apiKey: String,
        client: HTTPClient? = nil,
        timeout: TimeAmount = .seconds(15),
        concurrency: Int = 8
    ) {
        base = url.hasSuffix("/") ? String(url.dropLast()) : url
        authorization = "Basic " + Data("micromdm:\(apiKey)".utf8).base64EncodedString()
        self.client = client ?? Self.sharedClient
        self.timeout = timeout
        self.concurrency = concurrency
    }

    static let sharedClient: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.timeout.connect = .seconds(5)
        configuration.redirectConfiguration = .disallow
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }()

    struct ErrorBody: Decodable { let error: String? }

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
        // As for NanoMDM: only the documented shape is sent, as exactly one path segment.
        guard let udid = try? EnrollmentID(command.enrollmentID) else {
            return .refused("enrollment id \"\(command.enrollmentID.prefix(60))\" has not the documented shape")
        }
        var request = HTTPClientRequest(url: "\(base)/v1/commands/\(udid.pathSegment)")
        request.method = .POST
        request.headers.add(name: "Authorization", value: authorization)
        request.headers.add(name: "Content-Type", value: "application/xml")
        request.body = .bytes(ByteBuffer(data: command.plist))
        do {
            let response = try await client.execute(request, timeout: timeout)
            let body = try await response.body.collect(upTo: 1 << 20)
            switch response.status.code {
            case 200, 201: return .delivered
            case 401, 403: return .retry("MicroMDM refused the API key (HTTP \(response.status.code))")
            default:
                let message = (try? JSONDecoder().decode(ErrorBody.self, from: Data(buffer: body)))?.error ?? ""
                if message.lowercased().contains("duplicate") { return .delivered }
                let retryAfter = response.headers.first(name: "Retry-After").flatMap(TimeInterval.init)
                return .retry(
                    "MicroMDM answered HTTP "
                        + "\(response.status.code)\(message.isEmpty ? "" : ": \(message.prefix(300))")",
                    after: retryAfter
                )
            }
        } catch {
            return .retry("MicroMDM unreachable: \(String(describing: error).prefix(200))")
        }
    }
}
