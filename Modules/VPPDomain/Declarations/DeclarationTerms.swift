/// What a scope says about its app's `com.apple.configuration.app.managed` declaration: `Install`, a pinned
/// `Version` and `UpdateBehavior.AutomaticAppUpdates`. Checked when made, so a scope never stores terms the
/// declaration would refuse.
public struct DeclarationTerms: Hashable, Sendable {
    /// `Required` (the device installs on its own) unless the scope says `Optional`.
    public let install: AppInstallPolicy
    /// A pinned external version id (EVID, a positive integer); the device never downgrades.
    public let version: Int?
    /// Whether the device updates the app on its own; not together with ``version`` (Apple ignores it then).
    public let automaticUpdates: AutomaticAppUpdates?

    /// - Throws: ``DeclarationError/invalidVersion(_:)`` for a version below 1,
    ///   ``DeclarationError/updateBehaviorWithVersion`` when both a version and automatic updates are given.
    public init(
        install: AppInstallPolicy = .required,
        version: Int? = nil,
        automaticUpdates: AutomaticAppUpdates? = nil
    ) throws(DeclarationError) {
        if let version, version < 1 { throw .invalidVersion(version) }
        if version != nil, automaticUpdates != nil { throw .updateBehaviorWithVersion }
        self.install = install
        self.version = version
        self.automaticUpdates = automaticUpdates
    }

    /// `Required`, no pin, the device's own update setting: the terms of an app no scope says anything about.
    public static let standard = DeclarationTerms(install: .required, checkedVersion: nil, automaticUpdates: nil)

    private init(install: AppInstallPolicy, checkedVersion: Int?, automaticUpdates: AutomaticAppUpdates?) {
        self.install = install
        self.version = checkedVersion
        self.automaticUpdates = automaticUpdates
    }

    /// The terms of one app's declaration when several scopes name it: a declaration is one per app and licence
    /// kind, so the strongest scope that can deliver by declaration decides (higher priority, then the first name),
    /// the same order that decides a member's terms. A `licenceOnly` scope never delivers the app, so it never
    /// decides.
    public static func forApp(_ asset: AssetKey, scopes: [AppScope]) -> DeclarationTerms {
        // Stronger first: the higher priority, then the first name (as `DesiredMember.outranks`).
        scopes.filter { $0.asset == asset && $0.mode != .licenceOnly }
            .min { ($0.priority, $1.name.value) > ($1.priority, $0.name.value) }?
            .declaration ?? .standard
    }
}
