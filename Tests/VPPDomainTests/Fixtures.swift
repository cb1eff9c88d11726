import Foundation
import VPPDomain

/// A fixed "now" so every rule is tested against an injected clock, never the wall clock.
let referenceNow = ISO8601Timestamp.parse("2026-11-25T12:00:00Z")!

extension Date {
    func adding(days: Double) -> Date { addingTimeInterval(days * 86_400) }
}

/// Builds `.vpptoken` file text the way Apple (standard alphabet) or commandment (URL-safe) writes it.
func tokenFileText(
    fields: [String: Any] = [
        "token": "VFdwQmVVMVRRWFJKTURrMA==", "expDate": "2027-11-25T12:00:00+0000", "orgName": "ORG12345",
    ],
    urlSafe: Bool = false,
    padded: Bool = true
) -> String {
    let json = try! JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys])
    return base64(json, urlSafe: urlSafe, padded: padded)
}

func base64(_ data: Data, urlSafe: Bool = false, padded: Bool = true) -> String {
    var text = data.base64EncodedString()
    if urlSafe { text = text.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_") }
    if !padded { text = text.replacingOccurrences(of: "=", with: "") }
    return text
}

let ourHolder = HolderIdentity(id: "tenant-ours", name: "vpp", metadata: "mdm.example.com")
let otherMDM = HolderIdentity(id: "jamf-1", name: "Jamf Pro", metadata: "jss.example.org")
let configurator = HolderIdentity(id: "522d5c43-ac2", name: "Apple Configurator 2", metadata: "2.13.3")

func makeToken(
    expiresInDays days: Double,
    revoked: Bool = false,
    invalid: Bool = false,
    holder: HolderIdentity? = ourHolder,
    id: TokenID = TokenID()
) -> ContentToken {
    ContentToken(
        id: id,
        tenantID: TenantID(),
        location: Location(appleID: "uid-\(id)", name: "Loc \(id.description.prefix(4))", countryCode: "us"),
        organizationName: "ORG",
        expiresAt: referenceNow.adding(days: days),
        secretFingerprint: "abcd1234",
        revokedAt: revoked ? referenceNow.adding(days: -1) : nil,
        invalidSince: invalid ? referenceNow.adding(days: -2) : nil,
        observedHolder: holder
    )
}
