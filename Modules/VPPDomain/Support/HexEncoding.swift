/// Lower-case hexadecimal text of bytes, two digits a byte.
///
/// Why not `String(format: "%02x")` per byte: that goes through Foundation's format parser once a byte, and an
/// API key's digest is hexed on every authenticated request (it was 5 % of vppd's CPU under load).
extension Sequence<UInt8> {
    /// `[0x0f, 0xa0]` → `"0fa0"`.
    public var lowercaseHex: String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(underestimatedCount * 2)
        for byte in self {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}

/// `count` random bytes from the system's cryptographic generator as lower-case hex (keys, secrets, cookies).
public func randomHex(bytes count: Int) -> String {
    var generator = SystemRandomNumberGenerator()
    return (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }.lowercaseHex
}
