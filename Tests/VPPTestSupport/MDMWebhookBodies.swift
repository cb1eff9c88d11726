import VPPDomain
import VPPHTTPAPI
import VPPUseCases

extension ReceiveMDMWebhook {
    /// Receives a raw webhook body as the HTTP route does: decoded by the edge's format, then recorded.
    @discardableResult
    public func callAsFunction(
        tenantID: TenantID,
        signature: String?,
        pathSecret: String? = nil,
        body: [UInt8]
    ) async throws -> MDMEventState {
        try await callAsFunction(
            tenantID: tenantID,
            signature: signature,
            pathSecret: pathSecret,
            body: body,
            event: Result { () throws(MalformedMDMEvent) in try MicroMDMWebhookFormat().event(from: body) }
        )
    }
}
