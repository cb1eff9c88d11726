import Foundation
import VPPDomain

/// Unguessable values for cookies and form tokens (the system's cryptographic generator).
public enum ConsoleRandom {
    /// `bytes` random bytes as lower-case hex.
    public static func hex(bytes: Int = 32) -> String {
        randomHex(bytes: bytes)
    }

    /// Compares two strings in time that depends only on their lengths (CSRF tokens, so timing reveals nothing).
    public static func constantTimeEquals(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8)
        let y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var difference: UInt8 = 0
        for i in x.indices { difference |= x[i] ^ y[i] }
        return difference == 0
    }
}
