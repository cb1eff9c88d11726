import Foundation
import Testing

@testable import VPPDomain

/// A small, seeded generator so every failure reproduces.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite("Token file parser under random and mutated input")
struct TokenFileFuzzTests {
    /// An independent oracle: what a correct file must satisfy, checked without the parser's code.
    static func isGenuineToken(_ data: Data) -> Bool {
        guard let text = String(data: data, encoding: .utf8) else { return false }
        var trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.hasPrefix("\u{FEFF}") { trimmed.removeFirst() }
        // Policy shared with the parser: one alphabet per file, padding optional.
        if (trimmed.contains("-") || trimmed.contains("_")) && (trimmed.contains("+") || trimmed.contains("/")) {
            return false
        }
        trimmed = trimmed.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while trimmed.hasSuffix("=") { trimmed.removeLast() }
        while trimmed.count % 4 != 0 { trimmed += "=" }
        guard let json = Data(base64Encoded: trimmed),
            let object = try? JSONSerialization.jsonObject(with: json) as? [String: Any]
        else { return false }
        for key in ["token", "expDate", "orgName"] {
            guard let value = object[key] as? String, !value.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
            else { return false }
        }
        guard let expiry = ISO8601Timestamp.parse(object["expDate"] as! String) else { return false }
        return expiry > referenceNow
    }

    static func mutate(_ bytes: [UInt8], using rng: inout SplitMix64) -> [UInt8] {
        var bytes = bytes
        for _ in 0..<Int.random(in: 1...4, using: &rng) {
            guard !bytes.isEmpty else {
                bytes.append(UInt8.random(in: 0...255, using: &rng))
                continue
            }
            let at = Int.random(in: 0..<bytes.count, using: &rng)
            switch Int.random(in: 0..<5, using: &rng) {
            case 0: bytes[at] = UInt8.random(in: 0...255, using: &rng)
            case 1: bytes.remove(at: at)
            case 2: bytes.insert(UInt8.random(in: 32...126, using: &rng), at: at)
            case 3: bytes = Array(bytes.prefix(at))
            default: bytes[at] ^= 1 << UInt8.random(in: 0...7, using: &rng)
            }
        }
        return bytes
    }

    @Test("5,000 random byte strings: never crashes, never accepts")
    func randomBytes() {
        var rng = SplitMix64(state: 0xC0FFEE)
        var accepted = 0
        for _ in 0..<5_000 {
            let count = Int.random(in: 0...600, using: &rng)
            let bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &rng) }
            if (try? ContentTokenFile.parse(Data(bytes), now: referenceNow)) != nil { accepted += 1 }
        }
        #expect(accepted == 0)
    }

    @Test("5,000 random Base64 texts: accepted only when they really are tokens")
    func randomBase64() {
        var rng = SplitMix64(state: 42)
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=")
        for _ in 0..<5_000 {
            let text = String(
                (0..<Int.random(in: 1...400, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! }
            )
            let accepted = (try? ContentTokenFile.parse(text, now: referenceNow)) != nil
            #expect(!accepted || Self.isGenuineToken(Data(text.utf8)), "accepted garbage: \(text)")
        }
    }

    @Test("10,000 mutations of real files: never crashes; accepts exactly what the oracle accepts")
    func mutatedFiles() {
        var rng = SplitMix64(state: 7)
        let seeds = [
            tokenFileText(), tokenFileText(urlSafe: true, padded: false),
            tokenFileText(fields: [
                "token": "~~~???", "expDate": "2030-11-08T22:33:22+00:00", "orgName": "Acme Schools",
            ]),
        ].map { Array($0.utf8) }
        var acceptedCount = 0
        for i in 0..<10_000 {
            let data = Data(Self.mutate(seeds[i % seeds.count], using: &rng))
            let accepted = (try? ContentTokenFile.parse(data, now: referenceNow)) != nil
            if accepted { acceptedCount += 1 }
            #expect(accepted == Self.isGenuineToken(data), "parser and oracle disagree on \(Array(data))")
        }
        // Some mutations keep the file valid (e.g. a flipped bit inside the opaque token): both must agree on those
        // too.
        #expect(acceptedCount < 10_000)
    }
}
