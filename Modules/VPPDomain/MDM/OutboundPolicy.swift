import Foundation

/// Which URLs vpp may call out to (MDM servers, webhooks, SMTP): `https` to a public address, unless the
/// operator names the host in `VPP_OUTBOUND_ALLOW`. An allowed host (or `host:port`) may be reached although it
/// is internal (loopback, private, link-local, cloud metadata), and over plain `http` too. The rule is checked
/// when a URL is configured (``refusal(forURL:)``) and again on every address the host resolves to when vpp
/// connects (``refusal(forAddress:host:port:)``), so a DNS name that later resolves inside does not pass.
public struct OutboundPolicy: Sendable, Hashable {
    /// One `VPP_OUTBOUND_ALLOW` entry: a host (any port) or a host and port, lower-cased.
    public struct Entry: Sendable, Hashable {
        public let host: String
        public let port: Int?
    }

    public let allowed: [Entry]

    /// The default: nothing internal, https only.
    public static let strict = OutboundPolicy(allowed: [])

    public init(allowed: [Entry]) { self.allowed = allowed }

    /// Reads `VPP_OUTBOUND_ALLOW`: comma-separated hosts or `host:port` pairs (`[::1]:8080` for IPv6).
    public init(allowList: String?) {
        var entries: [Entry] = []
        for item in (allowList ?? "").split(separator: ",") {
            let text = item.trimmingCharacters(in: .whitespaces).lowercased()
            guard !text.isEmpty else { continue }
            if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
                let host = String(text[text.index(after: text.startIndex)..<close])
                let rest = text[text.index(after: close)...]
                entries.append(Entry(host: host, port: rest.hasPrefix(":") ? Int(rest.dropFirst()) : nil))
            } else if text.filter({ $0 == ":" }).count == 1, let colon = text.firstIndex(of: ":"),
                let port = Int(text[text.index(after: colon)...])
            {
                entries.append(Entry(host: String(text[..<colon]), port: port))
            } else {
                entries.append(Entry(host: text, port: nil))
            }
        }
        allowed = entries
    }

    /// Whether the operator allowed `host` (as written in the URL) on `port`.
    public func allows(host: String, port: Int) -> Bool {
        let name = Self.bare(host)
        return allowed.contains { $0.host == name && ($0.port == nil || $0.port == port) }
    }

    /// Why `url` may not be configured as an outbound URL, or `nil`. Checked without DNS: the scheme, and a host
    /// that is an internal address or `localhost` unless allowed.
    public func refusal(
        forURL url: String,
        schemes: Set<String> = ["https"],
        plain: Set<String> = ["http"]
    )
        -> String?
    {
        guard let components = URLComponents(string: url.trimmingCharacters(in: .whitespaces)),
            let scheme = components.scheme?.lowercased(), let host = components.host, !host.isEmpty
        else { return "it is not a URL with a host" }
        guard schemes.contains(scheme) || plain.contains(scheme) else { return "its scheme \(scheme) is not allowed" }
        let port = components.port ?? Self.defaultPort(scheme)
        if allows(host: host, port: port) { return nil }
        if plain.contains(scheme) {
            return "it is plain \(scheme) to \(host), which VPP_OUTBOUND_ALLOW does not name (use https)"
        }
        if let address = IPAddress(Self.bare(host)), let range = address.internalRange {
            return "\(host) is a \(range) address, which VPP_OUTBOUND_ALLOW does not name"
        }
        // Only names that always mean this machine (RFC 6761) are refused here; any other name is checked on the
        // addresses it resolves to, when vpp connects.
        let name = Self.bare(host)
        if name == "localhost" || name.hasSuffix(".localhost") {
            return "\(host) is this machine, which VPP_OUTBOUND_ALLOW does not name"
        }
        return nil
    }

    /// Why vpp may not send mail through `host`: as for a URL, with STARTTLS (or SMTPS) standing for https.
    /// Checked when the configuration is read, on the name or literal address only (not at connect time).
    public func refusal(smtpHost host: String, port: Int, encrypted: Bool) -> String? {
        let literal = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        return refusal(
            forURL: "\(encrypted ? "smtps" : "smtp")://\(literal):\(port)",
            schemes: ["smtps"],
            plain: ["smtp"]
        )
    }

    /// Why vpp may not connect to `address` (one that `host` resolved to), or `nil`.
    public func refusal(forAddress address: IPAddress, host: String, port: Int) -> String? {
        guard let range = address.internalRange, !allows(host: host, port: port) else { return nil }
        return "\(host) resolves to \(address), a \(range) address, which VPP_OUTBOUND_ALLOW does not name"
    }

    static func bare(_ host: String) -> String {
        let lowered = host.lowercased()
        return lowered.hasPrefix("[") && lowered.hasSuffix("]") ? String(lowered.dropFirst().dropLast()) : lowered
    }

    static func defaultPort(_ scheme: String) -> Int {
        switch scheme {
        case "https": 443
        case "http": 80
        case "smtps": 465
        default: 587
        }
    }
}

/// An IPv4 or IPv6 address, parsed from its text, and the internal range it lies in.
public struct IPAddress: Sendable, Hashable, CustomStringConvertible {
    /// 4 or 16 bytes.
    public let bytes: [UInt8]

    public init?(bytes: [UInt8]) {
        guard bytes.count == 4 || bytes.count == 16 else { return nil }
        self.bytes = bytes
    }

    /// Dotted IPv4 (four decimal parts) or IPv6 (with `::`, and a dotted IPv4 tail); `nil` for anything else.
    public init?(_ text: String) {
        if let v4 = Self.parseV4(text) {
            bytes = v4
        } else if let v6 = Self.parseV6(text) {
            bytes = v6
        } else {
            return nil
        }
    }

    static func parseV4(_ text: String) -> [UInt8]? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var bytes: [UInt8] = []
        for part in parts {
            guard !part.isEmpty, part.count <= 3, part.allSatisfy(\.isASCII), let value = UInt8(part) else {
                return nil
            }
            bytes.append(value)
        }
        return bytes
    }

    static func parseV6(_ text: String) -> [UInt8]? {
        var text = Substring(text)
        if let zone = text.firstIndex(of: "%") { text = text[..<zone] }
        guard text.contains(":") else { return nil }
        let halves = text.components(separatedBy: "::")
        guard halves.count <= 2 else { return nil }
        func groups(_ part: String) -> [UInt8]? {
            if part.isEmpty { return [] }
            var bytes: [UInt8] = []
            let pieces = part.split(separator: ":", omittingEmptySubsequences: false)
            for (index, piece) in pieces.enumerated() {
                if index == pieces.count - 1, piece.contains("."), let v4 = parseV4(String(piece)) {
                    bytes += v4
                } else {
                    guard (1...4).contains(piece.count), let value = UInt16(piece, radix: 16) else { return nil }
                    bytes += [UInt8(value >> 8), UInt8(value & 0xff)]
                }
            }
            return bytes
        }
        guard let head = groups(halves[0]) else { return nil }
        if halves.count == 1 { return head.count == 16 ? head : nil }
        guard let tail = groups(halves[1]), head.count + tail.count <= 14 else { return nil }
        return head + Array(repeating: 0, count: 16 - head.count - tail.count) + tail
    }

    /// The kind of internal range the address is in (loopback, private, link-local and metadata, …), or `nil`
    /// for a public address.
    public var internalRange: String? {
        if bytes.count == 4 { return Self.v4Range(bytes) }
        // IPv4-mapped (::ffff:a.b.c.d) and IPv4-compatible (::a.b.c.d) addresses are their IPv4 address.
        if bytes[0..<10].allSatisfy({ $0 == 0 }) && (bytes[10] == 0xff && bytes[11] == 0xff) {
            return Self.v4Range(Array(bytes[12...]))
        }
        if bytes[0..<15].allSatisfy({ $0 == 0 }) { return bytes[15] == 1 ? "loopback" : "unspecified" }
        if bytes[0..<12].allSatisfy({ $0 == 0 }) { return Self.v4Range(Array(bytes[12...])) }
        // NAT64 (64:ff9b::/96) reaches the IPv4 address it embeds.
        if bytes[0..<12] == [0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0] { return Self.v4Range(Array(bytes[12...])) }
        if bytes[0] == 0xfe && bytes[1] & 0xc0 == 0x80 { return "link-local" }
        if bytes[0] & 0xfe == 0xfc { return "private (unique local, including cloud metadata fd00:ec2::254)" }
        if bytes[0] == 0xff { return "multicast" }
        if bytes[0] == 0xfe && bytes[1] & 0xc0 == 0xc0 { return "site-local" }
        return nil
    }

    static func v4Range(_ b: [UInt8]) -> String? {
        switch (b[0], b[1]) {
        case (127, _): "loopback"
        case (0, _): "unspecified"
        case (10, _), (172, 16...31), (192, 168): "private"
        case (169, 254): "link-local (cloud metadata)"
        case (100, 64...127): "shared (carrier-grade NAT)"
        case (192, 0) where b[2] == 0: "reserved"
        case (198, 18...19): "benchmarking"
        case (224...239, _): "multicast"
        case (240...255, _): "reserved"
        default: nil
        }
    }

    public var description: String {
        if bytes.count == 4 { return bytes.map(String.init).joined(separator: ".") }
        return stride(from: 0, to: 16, by: 2).map { String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16) }
            .joined(separator: ":")
    }
}
