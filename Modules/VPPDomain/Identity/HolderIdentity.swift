import Foundation

/// Who claims a content token at Apple: the `mdmInfo` object `{id, name, metadata}` of the v2 API.
///
/// Apple keeps no lock: the last writer wins, and every response echoes the current holder so that
/// each MDM can notice when another one has taken its token.
public struct HolderIdentity: Hashable, Sendable, Codable, CustomStringConvertible {
    /// Stable identifier of the MDM installation (for vpp: the tenant's own UUID text).
    public let id: String
    /// Product name, e.g. "vpp" or "Apple Configurator 2".
    public let name: String
    /// Free text, e.g. a host name or a version.
    public let metadata: String

    public init(id: String, name: String, metadata: String) {
        self.id = id
        self.name = name
        self.metadata = metadata
    }

    /// Apple Configurator writes its product name into `mdmInfo.name` (Apple's own example).
    public var isAppleConfigurator: Bool {
        name.range(of: "Apple Configurator", options: [.caseInsensitive]) != nil
    }

    /// Two identities denote the same holder when their ids match; names and metadata may change
    /// with upgrades and host renames.
    public func isSameHolder(as other: HolderIdentity) -> Bool { id == other.id }

    public var description: String { metadata.isEmpty ? name : "\(name) (\(metadata))" }
}
