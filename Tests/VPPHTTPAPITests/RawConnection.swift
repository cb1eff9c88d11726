import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A plain TCP connection to 127.0.0.1 for tests that must misbehave the way a slow or hostile client does
/// (half a header, a trickled body, a connection left open). Blocking calls run off the cooperative pool.
final class RawConnection: @unchecked Sendable {
    let fd: Int32

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else {
            close(fd)
            throw RawError(description: "connect failed: \(errno)")
        }
        var noSignal: Int32 = 1
        _ = setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &noSignal, socklen_t(MemoryLayout<Int32>.size))
    }

    struct RawError: Error, CustomStringConvertible { let description: String }

    deinit { close(fd) }

    /// Closes both directions now (the server sees the connection end).
    func shutdown() { _ = Glibc.shutdown(fd, Int32(SHUT_RDWR)) }

    /// Sends bytes; false when the peer has closed (EPIPE/ECONNRESET).
    @discardableResult
    func send(_ text: String) -> Bool { send(Data(text.utf8)) }

    @discardableResult
    func send(_ data: Data) -> Bool {
        data.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let sent = Glibc.send(fd, buffer.baseAddress! + offset, buffer.count - offset, Int32(MSG_NOSIGNAL))
                if sent <= 0 { return false }
                offset += sent
            }
            return true
        }
    }

    /// Reads until the peer closes or `timeout` passes; returns what arrived and whether the peer closed.
    func readUntilClosed(timeout: Duration) async -> (text: String, closed: Bool) {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread { [self] in
                let deadline = ContinuousClock.now + timeout
                var received = Data()
                var closed = false
                var buffer = [UInt8](repeating: 0, count: 65536)
                while ContinuousClock.now < deadline {
                    var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                    let remaining = deadline - ContinuousClock.now
                    let milliseconds = max(
                        1,
                        Int32(
                            remaining.components.seconds * 1000 + remaining.components.attoseconds
                                / 1_000_000_000_000_000
                        )
                    )
                    guard poll(&poller, 1, min(milliseconds, 200)) > 0 else { continue }
                    let count = recv(fd, &buffer, buffer.count, 0)
                    if count <= 0 {
                        closed = true
                        break
                    }
                    received.append(contentsOf: buffer[0..<count])
                }
                continuation.resume(returning: (String(decoding: received, as: UTF8.self), closed))
            }
        }
    }

    /// Reads until `marker` appears (e.g. the end of a response head) or `timeout` passes.
    func read(until marker: String, timeout: Duration) async -> String {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread { [self] in
                let deadline = ContinuousClock.now + timeout
                var received = Data()
                var buffer = [UInt8](repeating: 0, count: 65536)
                while ContinuousClock.now < deadline, !String(decoding: received, as: UTF8.self).contains(marker) {
                    var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                    guard poll(&poller, 1, 100) > 0 else { continue }
                    let count = recv(fd, &buffer, buffer.count, 0)
                    if count <= 0 { break }
                    received.append(contentsOf: buffer[0..<count])
                }
                continuation.resume(returning: String(decoding: received, as: UTF8.self))
            }
        }
    }
}
