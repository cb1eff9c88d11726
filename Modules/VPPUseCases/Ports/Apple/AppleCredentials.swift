import Foundation
import VPPDomain

/// The token to call Apple with, and the holder we expect to see in `mdmInfo`.
///
/// With `expectedHolder` set, a response naming another holder fails with
/// ``AppleAPIError/claimedByAnotherHolder(_:)``; leave it `nil` to read who holds a token (upload, take-over).
public struct AppleCredentials: Sendable {
    public let token: ContentTokenSecret
    public let expectedHolder: HolderIdentity?

    public init(token: ContentTokenSecret, expectedHolder: HolderIdentity?) {
        self.token = token
        self.expectedHolder = expectedHolder
    }
}
