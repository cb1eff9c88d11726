import Foundation

/// HMAC-SHA256 (RFC 2104) over the domain's own SHA-256, and a constant-time comparison.
///
/// Why here: the MDM webhook signature (`X-Hmac-Signature`) and Standard Webhooks signatures are
/// checked by use cases, which may not import a crypto library (the layering rule).
public enum HMACSHA256 {
    public static func mac(key: [UInt8], message: [UInt8]) -> [UInt8] {
        var block = key.count > 64 ? SHA256Digest.hash(key) : key
        block += [UInt8](repeating: 0, count: 64 - block.count)
        let inner = SHA256Digest.hash(block.map { $0 ^ 0x36 } + message)
        return SHA256Digest.hash(block.map { $0 ^ 0x5c } + inner)
    }

    /// Compares every byte whatever the first difference, so the time taken says nothing about where it is.
    public static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for i in a.indices { difference |= a[i] ^ b[i] }
        return difference == 0
    }

    /// Whether `signature` (base64, as NanoMDM sends it) is the HMAC of `body` under `key`.
    public static func verifyBase64(_ signature: String?, key: [UInt8], body: [UInt8]) -> Bool {
        guard let signature, let given = Data(base64Encoded: signature.trimmingCharacters(in: .whitespaces)) else {
            return false
        }
        return constantTimeEqual(Array(given), mac(key: key, message: body))
    }
}
