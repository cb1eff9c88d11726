import Foundation

/// Where and how to send mail, from `VPP_SMTP_URL`:
/// `smtp://[user:password@]host[:port]?from=vpp@example.com[&starttls=true][&ca=/path/cert.pem][&timeout=30]`.
public struct SMTPConfiguration: Sendable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var username: String?
    public var password: String?
    public var from: String
    /// Upgrade with STARTTLS before authenticating (required when a password is given).
    public var startTLS: Bool
    /// A PEM certificate to trust (a private CA); the system trust store otherwise.
    public var trustedCertificatePath: String?
    public var timeout: Duration = .seconds(30)

    public init(url text: String) throws {
        guard let url = URLComponents(string: text), url.scheme == "smtp", let host = url.host, !host.isEmpty else {
            throw SMTPError.configuration(
                "VPP_SMTP_URL must look like smtp://user:pass@host:587?from=vpp@example.com&starttls=true"
            )
        }
        let query = Dictionary((url.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { $1 })
        self.host = host
        self.port = url.port ?? 587
        self.username = url.percentEncodedUser?.removingPercentEncoding
        self.password = url.percentEncodedPassword?.removingPercentEncoding
        self.from = query["from"] ?? "vpp@localhost"
        self.startTLS = query["starttls"].map { $0 == "true" || $0 == "1" } ?? (password != nil)
        self.trustedCertificatePath = query["ca"]
        if let seconds = query["timeout"].flatMap(Double.init) { self.timeout = .milliseconds(Int(seconds * 1000)) }
        if password != nil && !startTLS {
            throw SMTPError.configuration("refusing to send an SMTP password without STARTTLS; add starttls=true")
        }
    }

    /// The configuration without its password, safe to log.
    public var description: String {
        "smtp://\(username.map { "\($0):***@" } ?? "")\(host):\(port) (from \(from)\(startTLS ? ", STARTTLS" : ""))"
    }
}

/// Why mail could not be sent.
public enum SMTPError: Error, Sendable, CustomStringConvertible, Equatable {
    case configuration(String)
    /// The server answered with an unexpected code; `reply` is its text (never our password).
    case rejected(command: String, reply: String)
    case startTLSUnavailable
    case connection(String)

    public var description: String {
        switch self {
        case .configuration(let detail): "SMTP configuration: \(detail)"
        case .rejected(let command, let reply): "The SMTP server refused \(command): \(reply)"
        case .startTLSUnavailable: "The SMTP server does not offer STARTTLS, which this configuration requires."
        case .connection(let detail): "Cannot talk to the SMTP server: \(detail)"
        }
    }
}
