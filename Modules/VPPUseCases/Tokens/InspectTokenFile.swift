import Foundation
import VPPDomain

/// What can be told about a `.vpptoken` file without contacting Apple or storing anything.
public struct TokenFileSummary: Sendable, Encodable {
    public let organizationName: String
    public let expiresAt: String
    public let daysLeft: Int
    public let secretFingerprint: String
}

/// Checks a `.vpptoken` file offline: the first thing an admin runs on a file they doubt.
public struct InspectTokenFile: Sendable {
    private let clock: any Clock

    public init(clock: any Clock) { self.clock = clock }

    /// Parses `data`; throws the ``TokenFileError`` that names the problem. Changes nothing.
    public func callAsFunction(_ data: Data) throws(TokenFileError) -> TokenFileSummary {
        let now = clock.now()
        let file = try ContentTokenFile.parse(data, now: now)
        return TokenFileSummary(
            organizationName: file.organizationName,
            expiresAt: ISO8601Timestamp.format(file.expiresAt),
            daysLeft: ContentToken.wholeDaysLeft(until: file.expiresAt, from: now),
            secretFingerprint: file.secret.fingerprint
        )
    }
}
