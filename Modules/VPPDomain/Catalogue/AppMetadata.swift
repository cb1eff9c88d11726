import Foundation

/// What the store says about an app: Apple's licensing API returns none of this.
public struct AppMetadata: Hashable, Sendable, Codable {
    public var name: String
    public var bundleID: String?
    public var iconURL: URL?
    public var version: String?

    public init(name: String, bundleID: String? = nil, iconURL: URL? = nil, version: String? = nil) {
        self.name = name
        self.bundleID = bundleID
        self.iconURL = iconURL
        self.version = version
    }
}
