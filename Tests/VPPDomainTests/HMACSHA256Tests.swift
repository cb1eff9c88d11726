import Crypto
import Foundation
import Testing
import VPPDomain

@Suite("HMAC-SHA256 for MDM webhook signatures")
struct HMACSHA256Tests {
    @Test("HMAC-SHA256 matches swift-crypto on random keys and bodies; any flipped bit or wrong length is refused")
    func hmac() throws {
        for length in [0, 1, 63, 64, 65, 200, 5000] {
            let key = (0..<(length % 97 + 1)).map { _ in UInt8.random(in: 0...255) }
            let body = (0..<length).map { _ in UInt8.random(in: 0...255) }
            let expected = Array(HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: key)))
            #expect(HMACSHA256.mac(key: key, message: body) == expected)
            let signature = Data(expected).base64EncodedString()
            #expect(HMACSHA256.verifyBase64(signature, key: key, body: body))
            for bit in [0, 7, 100, 255] {
                var flipped = expected
                flipped[bit / 8] ^= UInt8(1 << (bit % 8))
                #expect(!HMACSHA256.verifyBase64(Data(flipped).base64EncodedString(), key: key, body: body))
            }
            #expect(!HMACSHA256.verifyBase64(Data(expected.dropLast()).base64EncodedString(), key: key, body: body))
            #expect(!HMACSHA256.verifyBase64(nil, key: key, body: body))
            #expect(!HMACSHA256.verifyBase64("not base64!", key: key, body: body))
            #expect(!HMACSHA256.verifyBase64(signature, key: key + [1], body: body))
        }
        // A key longer than a block is hashed first (RFC 2104).
        let long = [UInt8](repeating: 7, count: 131)
        #expect(
            HMACSHA256.mac(key: long, message: [1])
                == Array(HMAC<SHA256>.authenticationCode(for: [1], using: SymmetricKey(data: long)))
        )
    }
}
