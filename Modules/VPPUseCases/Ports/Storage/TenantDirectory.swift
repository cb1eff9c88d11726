import Foundation
import VPPDomain

/// The tenants themselves, and the lookups that find a tenant before its unit of work can start (see
/// ``Store``): a webhook names a token, an API key arrives without its tenant.
public protocol TenantDirectory: Sendable {
    /// Creates a tenant; its name must be unique.
    func createTenant(_ tenant: Tenant) async throws
    func tenant(_ id: TenantID) async throws -> Tenant?
    func tenant(named name: String) async throws -> Tenant?
    /// Every tenant (administration and tests; background work asks the store what is due instead).
    func tenants() async throws -> [Tenant]
    /// The tenant whose `mdmInfo` id this is (to recognise another tenant of ours holding a token).
    func tenant(holderID: String) async throws -> Tenant?
    /// Finds an API key by the SHA-256 of the key presented; the only lookup not scoped by tenant.
    func apiKey(hash: String) async throws -> APIKeyRecord?
    /// The tenant owning a token: Apple's webhook URL names only the token.
    func tenantOwning(tokenID: TokenID) async throws -> TenantID?
}
