import AsyncHTTPClient
import Foundation
import NIOCore
import VPPDomain

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The connect-time half of ``OutboundPolicy``: a URL's host is resolved here, every address it resolves to is
/// checked, and the connection is pinned to a checked address (AsyncHTTPClient's `dnsOverride`, which keeps the
/// host name for TLS), so a name that resolves inside, or is re-pointed between the check and the connection
/// (DNS rebinding), is not reached. Redirects are never followed.
enum OutboundGuard {
    /// A client for `url` whose connections can only reach addresses the policy allows, or why there is none.
    /// The caller shuts the client down when done with it.
    static func client(for url: String, policy: OutboundPolicy) async -> Result<HTTPClient, OutboundRefused> {
        if let reason = policy.refusal(forURL: url) { return .failure(OutboundRefused(reason: reason)) }
        guard let components = URLComponents(string: url), let host = components.host else {
            return .failure(OutboundRefused(reason: "it is not a URL with a host"))
        }
        let port = components.port ?? (components.scheme?.lowercased() == "https" ? 443 : 80)
        let bare = host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.timeout.connect = .seconds(5)
        configuration.redirectConfiguration = .disallow
        if let literal = IPAddress(bare) {
            if let reason = policy.refusal(forAddress: literal, host: bare, port: port) {
                return .failure(OutboundRefused(reason: reason))
            }
        } else {
            let addresses = await resolve(bare, port: port)
            guard let first = addresses.first else {
                return .failure(OutboundRefused(reason: "\(bare) does not resolve"))
            }
            for address in addresses {
                if let reason = policy.refusal(forAddress: address, host: bare, port: port) {
                    return .failure(OutboundRefused(reason: reason))
                }
            }
            configuration.dnsOverride = [bare: first.description]
        }
        return .success(HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration))
    }

    /// Every address `host` resolves to (getaddrinfo on a Dispatch thread: it blocks).
    static func resolve(_ host: String, port: Int) async -> [IPAddress] {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: resolveNow(host, port: port)) }
        }
    }

    static func resolveNow(_ host: String, port: Int) -> [IPAddress] {
        var hints = addrinfo()
        #if canImport(Glibc)
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #else
        hints.ai_socktype = SOCK_STREAM
        #endif
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &result) == 0, let first = result else { return [] }
        defer { freeaddrinfo(first) }
        var addresses: [IPAddress] = []
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let info = cursor {
            if let socket = info.pointee.ai_addr {
                if info.pointee.ai_family == AF_INET {
                    let raw = socket.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr }
                    withUnsafeBytes(of: raw) {
                        if let address = IPAddress(bytes: Array($0)) { addresses.append(address) }
                    }
                } else if info.pointee.ai_family == AF_INET6 {
                    let raw = socket.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee.sin6_addr }
                    withUnsafeBytes(of: raw) {
                        if let address = IPAddress(bytes: Array($0)) { addresses.append(address) }
                    }
                }
            }
            cursor = info.pointee.ai_next
        }
        return addresses
    }
}

/// Why vpp did not call a URL.
struct OutboundRefused: Error, CustomStringConvertible {
    let reason: String
    var description: String { "vpp may not call this URL: \(reason) (VPP_OUTBOUND_ALLOW can allow a host)" }
}
