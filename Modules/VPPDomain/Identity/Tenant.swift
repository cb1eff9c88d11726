import Foundation

/// One logical MDM server: its replicas share the tenant, and Apple knows it by `holderIdentity`.
public struct Tenant: Hashable, Sendable, Codable {
    public let id: TenantID
    /// A name admins recognise, e.g. "Acme School District".
    public var name: String
    /// What this tenant writes into Apple's `mdmInfo` when it claims a token.
    public var holderIdentity: HolderIdentity

    public init(id: TenantID = TenantID(), name: String, holderIdentity: HolderIdentity) {
        self.id = id
        self.name = name
        self.holderIdentity = holderIdentity
    }
}
