import Foundation
import VPPDomain

/// One page of a listing and the opaque cursor of the next (nil on the last page).
public struct ListingPage<Item: Sendable & Encodable>: Sendable, Encodable {
    public let items: [Item]
    public let next: String?
}
