// swift-tools-version: 6.1
//
// vpp — Apple content-token (Apps and Books) management for MDM servers.
//
// The `dependencies:` arrays below ARE the architecture (see README "Layout"):
//   VPPDomain  <-  VPPUseCases  <-  adapters (VPPPostgres, VPPSQLite, VPPAppleClient)  <-  apps
// VPPAppleSimulator depends on none of our targets, so a wire-shape mistake cannot hide by being made
// twice. `Scripts/check-layers` enforces these rules on the manifest and on every `import` line.
import PackageDescription

/// Applied to every target: Swift 6 language mode (strict concurrency) and explicit `any`.
let strictSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "vpp",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "vppctl", targets: ["vppctl"]),
        .executable(name: "vppd", targets: ["vppd"]),
        .executable(name: "vppsim", targets: ["vppsim"]),
        .executable(name: "mdmsim", targets: ["mdmsim"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-crypto", "3.0.0"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.25.0"),
        .package(url: "https://github.com/vapor/sqlite-nio", from: "1.10.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.25.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.3.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.27.0"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.24.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth", from: "2.5.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/apple/swift-configuration", from: "1.0.0"),
    ],
    targets: [
        // MARK: Domain and use cases (no I/O)
        .target(
            name: "VPPDomain",
            path: "Modules/VPPDomain",
            swiftSettings: strictSettings
        ),
        .target(
            name: "VPPUseCases",
            dependencies: [
                "VPPDomain",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Modules/VPPUseCases",
            swiftSettings: strictSettings
        ),

        // MARK: Adapters (each depends on the use cases and its own technology, never on another adapter)
        .target(
            name: "VPPPostgres",
            dependencies: [
                "VPPUseCases", "VPPDomain", "VPPSQLStore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Modules/VPPPostgres",
            swiftSettings: strictSettings
        ),
        .target(
            name: "VPPSQLite",
            dependencies: [
                "VPPUseCases", "VPPDomain", "VPPSQLStore",
                .product(name: "SQLiteNIO", package: "sqlite-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Modules/VPPSQLite",
            swiftSettings: strictSettings
        ),
        .target(
            name: "VPPAppleClient",
            dependencies: [
                "VPPUseCases", "VPPDomain",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Modules/VPPAppleClient",
            swiftSettings: strictSettings
        ),
        .target(
            name: "VPPSecrets",
            dependencies: [
                "VPPUseCases",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Modules/VPPSecrets",
            swiftSettings: strictSettings
        ),
        .target(
            name: "VPPSMTP",
            dependencies: [
                "VPPUseCases",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOExtras", package: "swift-nio-extras"),
            ],
            path: "Modules/VPPSMTP",
            swiftSettings: strictSettings
        ),
        // Relational implementation of the storage port shared by the two SQL adapters (see README "Layout").
        .target(
            name: "VPPSQLStore",
            dependencies: ["VPPUseCases", "VPPDomain"],
            path: "Modules/VPPSQLStore",
            swiftSettings: strictSettings
        ),
        // The simulator is a product of its own: it shares no types with any other target of ours.
        .target(
            name: "VPPAppleSimulator",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Modules/VPPAppleSimulator",
            swiftSettings: strictSettings
        ),

        // The REST API: an inbound adapter over the use cases (Hummingbird).
        .target(
            name: "VPPHTTPAPI",
            dependencies: [
                "VPPUseCases", "VPPDomain",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Modules/VPPHTTPAPI",
            swiftSettings: strictSettings
        ),

        // The web console: server-rendered pages over the use cases (Hummingbird, mustache templates as resources).
        .target(
            name: "VPPConsole",
            dependencies: [
                "VPPUseCases", "VPPDomain",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Modules/VPPConsole",
            resources: [.copy("Templates"), .copy("Static")],
            swiftSettings: strictSettings
        ),

        // Device-command delivery to MDM servers: one adapter per kind of server (AsyncHTTPClient).
        .target(
            name: "VPPNanoMDM",
            dependencies: [
                "VPPUseCases", "VPPDomain",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
            ],
            path: "Modules/VPPNanoMDM",
            swiftSettings: strictSettings
        ),
        // Declarations to a DDM server (KMFDDM, NanoHUB's embedded KMFDDM).
        .target(
            name: "VPPKMFDDM",
            dependencies: [
                "VPPUseCases", "VPPDomain",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            path: "Modules/VPPKMFDDM",
            swiftSettings: strictSettings
        ),
        .target(
            name: "VPPMicroMDM",
            dependencies: [
                "VPPUseCases", "VPPDomain",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
            ],
            path: "Modules/VPPMicroMDM",
            swiftSettings: strictSettings
        ),
        .target(
            name: "VPPMDMWebhook",
            dependencies: [
                "VPPUseCases", "VPPDomain",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
            ],
            path: "Modules/VPPMDMWebhook",
            swiftSettings: strictSettings
        ),
        // mdmsim's engine: a stand-in MDM server built from the reference alone; shares no types with the adapters.
        .target(
            name: "VPPMDMSimulator",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Modules/VPPMDMSimulator",
            swiftSettings: strictSettings
        ),

        // MARK: Composition root (adapters wired together; only the apps use it)
        .target(
            name: "VPPComposition",
            dependencies: [
                "VPPDomain", "VPPUseCases", "VPPPostgres", "VPPSQLite", "VPPSQLStore", "VPPAppleClient", "VPPSecrets",
                "VPPSMTP",
                "VPPNanoMDM", "VPPMicroMDM", "VPPMDMWebhook", "VPPKMFDDM", "VPPHTTPAPI", "VPPConsole",
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Modules/VPPComposition",
            swiftSettings: strictSettings
        ),

        // MARK: Apps (the only places that wire adapters together)
        .executableTarget(
            name: "vppctl",
            dependencies: [
                "VPPDomain", "VPPUseCases", "VPPComposition", "VPPAppleClient", "VPPAppleSimulator", "VPPConsole",
                "VPPMDMSimulator",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Apps/vppctl",
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "vppd",
            dependencies: [
                "VPPDomain", "VPPUseCases", "VPPComposition", "VPPHTTPAPI", "VPPConsole",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Apps/vppd",
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "vppsim",
            dependencies: [
                "VPPAppleSimulator",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Apps/vppsim",
            swiftSettings: strictSettings
        ),

        .executableTarget(
            name: "mdmsim",
            dependencies: [
                "VPPMDMSimulator",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Apps/mdmsim",
            swiftSettings: strictSettings
        ),

        // Benchmarks: drives the real adapters and prints numbers (Scripts/bench-*.sh).
        .executableTarget(
            name: "vppbench",
            dependencies: [
                "VPPDomain", "VPPUseCases", "VPPAppleClient", "VPPAppleSimulator", "VPPPostgres", "VPPSQLite",
                "VPPComposition",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Apps/vppbench",
            swiftSettings: strictSettings
        ),

        // MARK: Tests
        .testTarget(
            name: "VPPDomainTests",
            dependencies: [
                "VPPDomain",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Tests/VPPDomainTests",
            swiftSettings: strictSettings
        ),
        // Shared test fixtures (a fresh PostgreSQL database, both stores, the use cases built by the composition
        // root's own factory); only test targets use it.
        .target(
            name: "VPPTestSupport",
            dependencies: [
                "VPPPostgres", "VPPSQLite", "VPPSQLStore", "VPPUseCases", "VPPDomain", "VPPAppleClient",
                "VPPAppleSimulator", "VPPSecrets", "VPPComposition", "VPPConsole", "VPPHTTPAPI",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/VPPTestSupport",
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "VPPUseCaseTests",
            dependencies: [
                "VPPTestSupport", "VPPUseCases", "VPPDomain", "VPPAppleClient", "VPPAppleSimulator", "VPPSecrets",
                "VPPSMTP",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "Tests/VPPUseCaseTests",
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "VPPHTTPAPITests",
            dependencies: [
                "VPPTestSupport", "VPPHTTPAPI", "VPPUseCases", "VPPDomain", "VPPAppleSimulator", "VPPComposition",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
            ],
            path: "Tests/VPPHTTPAPITests",
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "EndToEndTests",
            dependencies: [
                "VPPTestSupport", "VPPDomain",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
            ],
            path: "Tests/EndToEndTests",
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "VPPStorageTests",
            dependencies: [
                "VPPTestSupport", "VPPPostgres", "VPPSQLite", "VPPSQLStore", "VPPSecrets", "VPPUseCases", "VPPDomain",
                "VPPComposition",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/VPPStorageTests",
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "VPPConsoleTests",
            dependencies: [
                "VPPTestSupport", "VPPConsole", "VPPUseCases", "VPPDomain", "VPPSQLStore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Tests/VPPConsoleTests",
            swiftSettings: strictSettings
        ),
        // The MDM delivery adapters against mdmsim (NanoMDM) and small receivers on real ports.
        .testTarget(
            name: "VPPMDMAdapterTests",
            dependencies: [
                "VPPNanoMDM", "VPPMicroMDM", "VPPMDMWebhook", "VPPKMFDDM", "VPPMDMSimulator", "VPPUseCases",
                "VPPDomain", "VPPAppleSimulator",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
            ],
            path: "Tests/VPPMDMAdapterTests",
            swiftSettings: strictSettings
        ),
        // The composition root: the configuration reader and its redaction.
        .testTarget(
            name: "VPPCompositionTests",
            dependencies: [
                "VPPComposition",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/VPPCompositionTests",
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "VPPAppleContractTests",
            dependencies: [
                "VPPAppleClient", "VPPAppleSimulator", "VPPUseCases", "VPPDomain",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/VPPAppleContractTests",
            swiftSettings: strictSettings
        ),
    ]
)
