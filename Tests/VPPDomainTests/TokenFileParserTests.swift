import Foundation
import Testing

@testable import VPPDomain

@Suite("Parsing .vpptoken files")
struct TokenFileParserTests {
    @Test("accepts Apple's standard Base64 with the colon-less offset")
    func acceptsStandardFile() throws {
        let text = tokenFileText()
        let file = try ContentTokenFile.parse(text + "\n", now: referenceNow)
        #expect(file.organizationName == "ORG12345")
        #expect(file.expiresAt == ISO8601Timestamp.parse("2027-11-25T12:00:00Z"))
        #expect(file.secret.revealForTransport() == text, "the bearer is the whole trimmed Base64 text")
    }

    @Test(
        "accepts URL-safe Base64, missing padding and surrounding whitespace",
        arguments: [(true, true), (true, false), (false, false)]
    )
    func acceptsAlphabetsAndPadding(urlSafe: Bool, padded: Bool) throws {
        // '~~~' and '???' force '+' / '/' (or '-' / '_') into the Base64 text.
        let text = tokenFileText(
            fields: ["token": "~~~???>>>", "expDate": "2027-01-01T00:00:00Z", "orgName": "Org ?>"],
            urlSafe: urlSafe,
            padded: padded
        )
        let file = try ContentTokenFile.parse("  \r\n" + text + "\n\n\t", now: referenceNow)
        #expect(file.organizationName == "Org ?>")
        #expect(file.secret.revealForTransport() == text)
    }

    @Test("accepts a UTF-8 byte-order mark from Windows editors")
    func acceptsByteOrderMark() throws {
        let data = Data([0xEF, 0xBB, 0xBF]) + Data(tokenFileText().utf8)
        _ = try ContentTokenFile.parse(data, now: referenceNow)
    }

    @Test(
        "reads expDate with +0000, Z, +00:00, other offsets and fractions",
        arguments: [
            ("2027-11-25T12:00:00+0000", "2027-11-25T12:00:00Z"),
            ("2027-11-25T12:00:00Z", "2027-11-25T12:00:00Z"),
            ("2027-11-25T12:00:00+00:00", "2027-11-25T12:00:00Z"),
            ("2027-11-25T13:30:00+01:30", "2027-11-25T12:00:00Z"),
            ("2027-11-25T07:00:00-0500", "2027-11-25T12:00:00Z"),
            ("2027-11-25T12:00:00.000Z", "2027-11-25T12:00:00Z"),
        ]
    )
    func readsDates(text: String, expectedUTC: String) throws {
        let file = try ContentTokenFile.parse(
            tokenFileText(fields: ["token": "t", "expDate": text, "orgName": "o"]),
            now: referenceNow
        )
        #expect(file.expiresAt == ISO8601Timestamp.parse(expectedUTC))
    }

    static let rejections: [(name: String, input: Data, expected: TokenFileError)] = [
        ("empty file", Data(), .empty),
        ("only whitespace", Data(" \n\t\r\n".utf8), .empty),
        (
            "too large", Data(repeating: UInt8(ascii: "A"), count: 64 * 1024 + 1),
            .tooLarge(bytes: 64 * 1024 + 1, limit: 64 * 1024)
        ),
        ("a PNG header", Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00]), .binaryOrWrongEncoding),
        (
            "UTF-16 with BOM", Data([0xFF, 0xFE]) + tokenFileText().data(using: .utf16LittleEndian)!,
            .binaryOrWrongEncoding
        ),
        ("invalid UTF-8", Data([0x41, 0xC3, 0x28, 0x41]), .binaryOrWrongEncoding),
        ("non-ASCII text", Data("tökén".utf8), .notBase64),
        ("control characters", Data("abc\u{01}def".utf8), .binaryOrWrongEncoding),
        ("not Base64", Data("this is not a token!".utf8), .notBase64),
        ("Base64 with inner space", Data("eyJh YmMi".utf8), .notBase64),
        ("mixed alphabets", Data("ab+c-d==".utf8), .notBase64),
        ("bad length", Data("abcde".utf8), .notBase64),
        ("Base64 of text", Data(base64(Data("hello world".utf8)).utf8), .notJSON),
        ("a JSON array", Data(base64(Data("[1,2]".utf8)).utf8), .wrongShape(found: "an array")),
        ("a JSON string", Data(base64(Data("\"tok\"".utf8)).utf8), .wrongShape(found: "a string")),
        (
            "token missing", Data(tokenFileText(fields: ["expDate": "2027-11-25T12:00:00+0000", "orgName": "o"]).utf8),
            .missingField("token")
        ),
        (
            "expDate missing", Data(tokenFileText(fields: ["token": "t", "orgName": "o"]).utf8),
            .missingField("expDate")
        ),
        (
            "orgName missing", Data(tokenFileText(fields: ["token": "t", "expDate": "2027-11-25T12:00:00+0000"]).utf8),
            .missingField("orgName")
        ),
        (
            "orgName null",
            Data(
                tokenFileText(fields: ["token": "t", "expDate": "2027-11-25T12:00:00+0000", "orgName": NSNull()]).utf8
            ),
            .missingField("orgName")
        ),
        (
            "token empty",
            Data(tokenFileText(fields: ["token": "  ", "expDate": "2027-11-25T12:00:00+0000", "orgName": "o"]).utf8),
            .emptyField("token")
        ),
        (
            "token a number",
            Data(tokenFileText(fields: ["token": 42, "expDate": "2027-11-25T12:00:00+0000", "orgName": "o"]).utf8),
            .wrongShape(found: "whose \"token\" is not text")
        ),
        (
            "date in words", Data(tokenFileText(fields: ["token": "t", "expDate": "next year", "orgName": "o"]).utf8),
            .unreadableDate("next year")
        ),
        (
            "date without offset",
            Data(tokenFileText(fields: ["token": "t", "expDate": "2027-11-25T12:00:00", "orgName": "o"]).utf8),
            .unreadableDate("2027-11-25T12:00:00")
        ),
        (
            "impossible day",
            Data(tokenFileText(fields: ["token": "t", "expDate": "2027-02-30T12:00:00Z", "orgName": "o"]).utf8),
            .unreadableDate("2027-02-30T12:00:00Z")
        ),
        (
            "already expired",
            Data(tokenFileText(fields: ["token": "t", "expDate": "2026-11-25T11:59:59+0000", "orgName": "o"]).utf8),
            .alreadyExpired(ISO8601Timestamp.parse("2026-11-25T11:59:59Z")!)
        ),
    ]

    @Test("refuses each problem with its own error", arguments: rejections.indices)
    func refuses(index: Int) {
        let (name, input, expected) = Self.rejections[index]
        #expect(throws: expected, "\(name)") { try ContentTokenFile.parse(input, now: referenceNow) }
    }

    @Test("every error kind has its own code and a message a person can act on")
    func errorsAreDistinctAndReadable() {
        let errors = Self.rejections.map(\.expected)
        let codes = Set(errors.map(\.code))
        #expect(codes.count == 10, "one code per kind of problem: \(codes.sorted())")
        for error in errors {
            #expect(error.description.count > 20)
            #expect(!error.description.contains("VFdwQmVVMVRRWFJK"))
        }
    }

    @Test("the parsed value never reveals its secret")
    func neverRevealsSecret() throws {
        let text = tokenFileText(fields: [
            "token": "TOPSECRET-INNER", "expDate": "2027-11-25T12:00:00+0000", "orgName": "Acme",
        ])
        let file = try ContentTokenFile.parse(text, now: referenceNow)
        var dumped = ""
        dump(file, to: &dumped)
        var dumpedSecret = ""
        dump(file.secret, to: &dumpedSecret)
        let encoded = String(decoding: try JSONEncoder().encode(file), as: UTF8.self)
        let renderings = [
            file.description, String(describing: file), String(reflecting: file), "\(file)", dumped,
            file.secret.description, file.secret.debugDescription, "\(file.secret)", String(reflecting: file.secret),
            dumpedSecret, encoded, String(describing: [file.secret]),
        ]
        let fingerprint = file.secret.fingerprint
        #expect(fingerprint.count == 8)
        #expect(fingerprint == String(SHA256Digest.hex(of: text).prefix(8)))
        for rendering in renderings {
            #expect(!rendering.contains(text), "secret leaked in: \(rendering)")
            #expect(!rendering.contains(String(text.prefix(12))), "secret prefix leaked in: \(rendering)")
            #expect(
                rendering.contains(fingerprint) || rendering.contains("Acme"),
                "shows the fingerprint: \(rendering)"
            )
        }
    }
}
