/// The REST API's operations, in one list: the router registers them and the OpenAPI document describes
/// them, both from these definitions.
enum APIContract {
    static let operations: [APIOperation] =
        SystemRoutes.operations + TokenRoutes.operations + LicenceRoutes.operations + InventoryRoutes.operations
        + AuditRoutes.operations + ReportRoutes.operations + APIKeyRoutes.operations
        + MDMRoutes.operations + ScopeRoutes.operations + DeclarationRoutes.operations
        + DeclarationRoutes.pullOperations + DeviceRoutes.operations
}
