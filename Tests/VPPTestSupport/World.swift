import Foundation
import Logging
import Synchronization
import Testing
import VPPAppleClient
import VPPAppleSimulator
import VPPComposition
import VPPConsole
import VPPDomain
import VPPSecrets
import VPPUseCases

/// A clock tests move by hand.
public final class ManualClock: Clock, Sendable {
    private let instant: Mutex<Date>
    public init(_ start: Date) { instant = Mutex(start) }
    public func now() -> Date { instant.withLock { $0 } }
    public func advance(days: Double) { instant.withLock { $0 = $0.addingTimeInterval(days * 86_400) } }
    public func advance(seconds: TimeInterval) { instant.withLock { $0 = $0.addingTimeInterval(seconds) } }
}

/// A mailer that records what it was asked to send (unit-level fake; the SMTP adapter has its own tests).
public final class RecordingMailer: Mailer, Sendable {
    public let sent = Mutex<[(to: [String], subject: String)]>([])
    public init() {}
    public func send(to recipients: [String], subject: String, body: String) async throws {
        sent.withLock { $0.append((recipients, subject)) }
    }
}

/// Real pieces end to end: the simulator on a real port, the HTTP client, a real store (PostgreSQL or
/// SQLite), AES-GCM secrets, and one tenant with an admin of each role.
public struct World: Sendable {
    public let sut: StoreUnderTest
    public let simulator: AppleSimulator
    /// The ports the use cases are built from (the store, the simulator's client, the key, the clock).
    public let ports: VPPPorts
    /// The tests' settings: the defaults, with the loopback stand-ins allowed.
    public let settings: UseCaseSettings
    /// Every use case, built once by the composition root's factory from ``ports`` and ``settings``.
    public let useCases: UseCases
    public let clock: ManualClock
    public let mailer: RecordingMailer
    public let tenant: Tenant
    public let admin: Caller
    public let reader: Caller

    public var store: any Store { sut.store }

    /// Scope changes reconciled before the call returns (as in the CLI, which has no background workers).
    public var reconcilingInline: ManageDesiredState {
        ManageDesiredState(
            store: store,
            clock: clock,
            auditTrail: useCases.auditTrail,
            reconcile: useCases.reconcileScopes,
            request: useCases.requestReconcile,
            reconcilesInline: true
        )
    }

    /// Another set of use cases over these ports: other settings, MDM deliveries or declaration publishers,
    /// a password hasher, a sign-in throttle or an intent scheduler (bcrypt at cost 4 unless told).
    public func useCases(
        settings: UseCaseSettings? = nil,
        deliveries: (any DeviceCommandDeliveryFactory)? = nil,
        publishers: (any DeclarationPublisherFactory)? = nil,
        hasher: any PasswordHasher = BcryptPasswordHasher(cost: 4),
        signInPolicy: SignInPolicy = SignInPolicy(),
        intentScheduler: (any IntentScheduler)? = nil
    ) -> UseCases {
        UseCases(
            ports: ports,
            settings: settings ?? self.settings,
            deliveries: deliveries,
            publishers: publishers,
            hasher: hasher,
            signInPolicy: signInPolicy,
            intentScheduler: { _ in intentScheduler }
        )
    }

    /// Creates a location with `assets` and returns its `.vpptoken` file and uId.
    public func location(
        _ name: String,
        assets: [SimAsset],
        validDays: Double = 365,
        holder: SimMDMInfo? = nil
    ) async throws -> (file: Data, uid: String) {
        let uid = await simulator.createLocation(name: name)
        try await simulator.upsertAssets(assets, at: uid)
        if let holder { try await simulator.setMDMInfo(holder, at: uid) }
        let text = try await simulator.mintToken(
            for: uid,
            expiresAt: clock.now().addingTimeInterval(validDays * 86_400)
        )
        return (Data(text.utf8), uid)
    }

    public func addDevices(_ count: Int, installed: Set<String> = []) async throws -> [SerialNumber] {
        let serials = (0..<count).map { serial($0) }
        try await useCases.manageInventory.addDevices(
            admin,
            serials.map {
                Device(tenantID: tenant.id, serialNumber: $0, installedAdamIDs: installed)
            }
        )
        return serials
    }

    /// Polls every pending Apple event until none is left.
    public func settleEvents() async throws {
        for _ in 0..<100 {
            let pending = try await store.inTenant(tenant.id) { tx in try await tx.pendingEvents() }
            if pending.isEmpty { return }
            for event in pending { try await useCases.processAppleEvent.poll(tenant.id, event: event) }
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}

public func withWorld<T: Sendable>(_ kind: StoreKind, _ body: @Sendable (World) async throws -> T) async throws -> T {
    let start = Date()
    let clock = ManualClock(start)
    return try await withStore(kind, clock: { clock.now() }) { sut in
        var settings = SimulatorSettings()
        settings.requestsPerSecond = nil
        settings.eventDelayMilliseconds = 5
        var quiet = Logger(label: "test")
        quiet.logLevel = .critical
        let simulator = AppleSimulator(settings: settings, logger: quiet, now: { clock.now() })
        let running = try await SimulatorServer(simulator: simulator, logger: quiet).start()
        var configuration = AppleClientConfiguration(baseURL: running.appleBaseURL)
        configuration.initialBackoff = .milliseconds(5)
        let apple = HTTPAppleAppsAndBooksClient(configuration: configuration, logger: quiet)
        let mailer = RecordingMailer()
        let ports = VPPPorts(
            store: sut.store,
            apple: apple,
            metadata: LegacyContentMetadataLookup(apple: apple),
            secrets: try AESGCMSecretBox(key: Array(repeating: 9, count: 32)),
            clock: clock,
            mailer: mailer,
            logger: quiet
        )
        // The tests' stand-ins (mdmsim, receivers) listen on loopback: allowed as an operator would allow them.
        var useCaseSettings = UseCaseSettings()
        useCaseSettings.outboundPolicy = OutboundPolicy(allowList: testOutboundAllowList)
        let tenant = makeTenant("Acme Schools")
        try await sut.store.createTenant(tenant)
        let world = World(
            sut: sut,
            simulator: simulator,
            ports: ports,
            settings: useCaseSettings,
            useCases: UseCases(ports: ports, settings: useCaseSettings, hasher: BcryptPasswordHasher(cost: 4)),
            clock: clock,
            mailer: mailer,
            tenant: tenant,
            admin: Caller(
                tenantID: tenant.id,
                admin: Admin(tenantID: tenant.id, name: "ana", role: .applicationManagementFullControl)
            ),
            reader: Caller(tenantID: tenant.id, admin: Admin(tenantID: tenant.id, name: "rex", role: .readOnly))
        )
        do {
            let result = try await body(world)
            await running.stop()
            return result
        } catch {
            await running.stop()
            throw error
        }
    }
}

public let keynoteSim = SimAsset(
    adamId: "408709785",
    totalCount: 5,
    name: "Keynote",
    bundleId: "com.apple.iwork.keynote",
    version: "14.1"
)
public let pagesSim = SimAsset(adamId: "361309726", totalCount: 3, name: "Pages")
public let bookSim = SimAsset(adamId: "900000001", productType: "Book", totalCount: 10, deviceAssignable: false)

/// What the tests allow vpp to call although internal (`VPP_OUTBOUND_ALLOW`, which Scripts/test.sh exports for
/// the processes the tests start too): the loopback stand-ins.
public let testOutboundAllowList =
    ProcessInfo.processInfo.environment["VPP_OUTBOUND_ALLOW"] ?? "127.0.0.1,localhost"
