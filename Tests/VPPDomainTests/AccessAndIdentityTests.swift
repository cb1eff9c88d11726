import Crypto
import Foundation
import Testing

@testable import VPPDomain

@Suite("Admins, identifiers, timestamps and fingerprints")
struct AccessAndIdentityTests {
    @Test("roles grant exactly their permissions")
    func roles() {
        let tenant = TenantID()
        let admin = Admin(tenantID: tenant, name: "Ana", role: .mdmAdmin)
        let appManager = Admin(tenantID: tenant, name: "Bo", role: .applicationManagementFullControl)
        let reader = Admin(tenantID: tenant, name: "Cy", role: .readOnly)
        #expect(Permission.allCases.allSatisfy(admin.can))
        #expect(
            appManager.can(.manageContentTokens) && appManager.can(.manageLicences) && !appManager.can(.manageTenant)
        )
        #expect(reader.can(.read) && !reader.can(.manageLicences) && !reader.can(.manageContentTokens))
        #expect(throws: AccessDenied.self) { try reader.require(.manageContentTokens) }
        do {
            try reader.require(.manageContentTokens)
        } catch {
            #expect(
                error.description == "Cy (role Read-only) lacks the \"Application Management Full Control\" permission."
            )
        }
        #expect(Role.applicationManagementFullControl.displayName == "Application Management Full Control")
    }

    @Test("serial numbers are normalised and validated", arguments: ["c02xk1jhjg5j", " C02XK1JHJG5J\n"])
    func serials(text: String) throws {
        #expect(try SerialNumber(text).value == "C02XK1JHJG5J")
    }

    @Test(
        "bad identifiers are refused by name",
        arguments: ["", "short", "HAS SPACE123", "ÄÖÜ12345678", String(repeating: "A", count: 21)]
    )
    func badSerials(text: String) {
        #expect(throws: IdentifierError.invalidSerialNumber(text)) { try SerialNumber(text) }
    }

    @Test("client user ids and e-mails")
    func users() throws {
        #expect(throws: IdentifierError.self) { try ClientUserID("") }
        #expect(throws: IdentifierError.self) { try ClientUserID(" padded") }
        #expect(throws: IdentifierError.self) { try ClientUserID("a\u{0}b") }
        let id = try ClientUserID("8a1c-user@district")
        #expect(throws: IdentifierError.invalidEmail("nope")) {
            try ManagedUser(tenantID: TenantID(), clientUserID: id, email: "nope")
        }
        let user = try ManagedUser(
            tenantID: TenantID(),
            clientUserID: id,
            email: "ana@school.example",
            status: .retired
        )
        #expect(!user.canReceiveLicences)
        let decoded = try JSONDecoder().decode([SerialNumber].self, from: Data(#"["abcd12345"]"#.utf8))
        #expect(decoded.first?.value == "ABCD12345")
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode([SerialNumber].self, from: Data(#"["x"]"#.utf8))
        }
    }

    @Test("typed ids round-trip and differ by type at compile time")
    func typedIDs() throws {
        let id = TokenID()
        #expect(TokenID(uuidString: id.description) == id)
        #expect(TokenID(uuidString: "nope") == nil)
        let data = try JSONEncoder().encode(id)
        #expect(try JSONDecoder().decode(TokenID.self, from: data) == id)
    }

    @Test("timestamps are read in Apple's format and written as RFC 3339 (Z)")
    func timestamps() {
        let date = ISO8601Timestamp.parse("2030-11-08T22:33:22+0000")!
        #expect(ISO8601Timestamp.format(date) == "2030-11-08T22:33:22Z")
        for bad in [
            "", "2030-11-08", "2030-13-08T22:33:22Z", "2030-11-08T24:00:00Z", "2030-11-08T22:33:22+2500",
            "2030-11-08T22:33:22Zjunk",
        ] {
            #expect(ISO8601Timestamp.parse(bad) == nil, "\(bad)")
        }
    }

    @Test("hand-written SHA-256 matches swift-crypto on known vectors and 300 random inputs")
    func sha256() {
        #expect(SHA256Digest.hex(of: "") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256Digest.hex(of: "abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        var rng = SplitMix64(state: 99)
        for _ in 0..<300 {
            let bytes = (0..<Int.random(in: 0...300, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            #expect(SHA256Digest.hash(bytes) == Array(Crypto.SHA256.hash(data: bytes)))
        }
    }

    @Test("hex text is two lower-case digits a byte, as %02x gives; random hex has twice its bytes in digits")
    func hexText() {
        let everyByte = (0...255).map { UInt8($0) }
        #expect(everyByte.lowercaseHex == everyByte.map { String(format: "%02x", $0) }.joined())
        #expect([UInt8]().lowercaseHex.isEmpty)
        let key = randomHex(bytes: 32)
        #expect(key.count == 64 && key.allSatisfy { "0123456789abcdef".contains($0) })
        #expect(randomHex(bytes: 32) != key)
    }
}
