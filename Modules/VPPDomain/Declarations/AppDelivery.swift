/// How a tenant's apps reach devices once Apple confirmed their licences.
public enum AppDelivery: String, Hashable, Sendable, Codable, CaseIterable {
    /// InstallApplication / RemoveApplication through the tenant's MDM connection (the default).
    case commands
    /// The device's enrollment joins the app's `com.apple.configuration.app.managed` declaration set.
    case declarations
}
