import Foundation
import Logging
import Testing
import VPPComposition

/// The one configuration reader: precedence (flags > environment > defaults), one log-level default per
/// program, and secrets that never reach its description, whatever field or form they come in.
@Suite("Configuration: one reader, flags over environment over defaults, secrets redacted")
struct VPPConfigurationTests {
    static let key = "c2VjcmV0LWtleS1ieXRlcy0zMi1sb25nLWFhYWFhYWE="
    static let previousKey = "cHJldmlvdXMta2V5LWJ5dGVzLTMyLWxvbmctYmJiYmI="
    static let environment = [
        "VPP_DATABASE_URL": "postgres://vpp:db-pa55word@db.example:5432/vpp?sslmode=require&password=qs-pa55",
        "VPP_ENCRYPTION_KEY": key,
        "VPP_ENCRYPTION_KEY_PREVIOUS": previousKey,
        "VPP_SMTP_URL": "smtp://mailer:smtp-pa55word@mail.example:587",
        "VPP_HTTP_PORT": "9000",
        "VPP_PUBLIC_URL": "https://vpp.example/",
    ]

    @Test("flags win over the environment, which wins over the defaults; empty values count as unset")
    func precedence() {
        let configuration = VPPConfiguration(
            flags: ["vpp.http.port": "7000", "vpp.tenant": "acme"],
            environment: Self.environment.merging(["VPP_HTTP_HOST": "", "VPP_TENANT": "env-tenant"]) { $1 }
        )
        #expect(configuration.httpPort == 7000)
        #expect(configuration.tenant == "acme")
        #expect(configuration.httpHost == "127.0.0.1")
        #expect(configuration.publicURL == "https://vpp.example")
        #expect(configuration.encryptionKey == Self.key)
        #expect(configuration.isPostgres)
        let defaults = VPPConfiguration(environment: [:])
        #expect(defaults.databaseURL == "sqlite://.vpp/vpp.sqlite")
        #expect(defaults.httpPort == 8080)
        #expect(defaults.intentLease == 60)
    }

    @Test("one log-level key; the default is info for the server and warning for the CLI")
    func logLevel() {
        #expect(VPPConfiguration(program: .server, environment: [:]).logLevel == .info)
        #expect(VPPConfiguration(program: .cli, environment: [:]).logLevel == .warning)
        #expect(VPPConfiguration(program: .cli, environment: ["VPP_LOG_LEVEL": "debug"]).logLevel == .debug)
    }

    @Test("no secret appears in the description, from the environment or from flags")
    func secretsRedacted() {
        let secrets = ["db-pa55word", "qs-pa55", "smtp-pa55word", Self.key, Self.previousKey]
        let fromEnvironment = VPPConfiguration(environment: Self.environment)
        let fromFlags = VPPConfiguration(
            flags: ["vpp.database.url": "postgres://u:flag-pa55word@h/db", "vpp.encryption.key": Self.key],
            environment: [:]
        )
        for configuration in [fromEnvironment, fromFlags] {
            let printed = "\(configuration)" + String(describing: configuration) + String(reflecting: configuration)
            for secret in secrets + ["flag-pa55word"] {
                #expect(!printed.contains(secret), "the description shows a secret")
            }
            #expect(printed.contains("VPP_ENCRYPTION_KEY=<redacted>"))
        }
        // What is not secret stays readable, so the description is still useful.
        #expect("\(fromEnvironment)".contains("db.example:5432/vpp"))
        #expect("\(fromEnvironment)".contains("VPP_HTTP_PORT=9000"))
    }

    @Test("vppd --print-configuration prints the settings with every secret redacted")
    func printedByTheServer() throws {
        let binary = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
            "../../.build/debug/vppd"
        ).standardizedFileURL
        let process = Process()
        process.executableURL = binary
        process.arguments = ["--print-configuration"]
        process.environment = Self.environment
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let printed = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(printed.contains("VPP_HTTP_PORT=9000"))
        for secret in ["db-pa55word", "qs-pa55", "smtp-pa55word", Self.key, Self.previousKey] {
            #expect(!printed.contains(secret), "vppd printed a secret")
        }
    }

    @Test(
        "a database URL vpp cannot parse (libpq multi-host) is echoed in its error with the password redacted",
        arguments: [("vppctl", ["migrate"]), ("vppd", ["serve", "--port", "0"])]
    )
    func unparseableURLRedacted(program: String, arguments: [String]) throws {
        let binary = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
            "../../.build/debug/\(program)"
        ).standardizedFileURL
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        process.environment = [
            "VPP_DATABASE_URL":
                "postgres://vpp:multi-pa55@db1.example:5432,db2.example:5432/vpp?target_session_attrs=read-write",
            "VPP_ENCRYPTION_KEY": Self.key,
        ]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let printed = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus != 0)
        #expect(!printed.contains("multi-pa55"), "\(program) echoed the password: \(printed)")
        #expect(printed.contains("postgres://vpp:***@db1.example:5432,db2.example:5432/vpp"), "\(printed)")
    }

    @Test("the PostgreSQL pool size is a setting; a bad one stops the start with its name and changes nothing")
    func poolSize() async throws {
        #expect(VPPConfiguration(environment: [:]).databaseMaxConnections == 20)
        let four = VPPConfiguration(environment: ["VPP_DATABASE_MAX_CONNECTIONS": "4"])
        #expect(four.databaseMaxConnections == 4 && four.databaseMaxConnectionsProblem == nil)
        #expect("\(four)".contains("VPP_DATABASE_MAX_CONNECTIONS=4"))
        for bad in ["0", "-3", "many", "1001", "2.5"] {
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("pool-\(UUID().uuidString)")
            var configuration = VPPConfiguration(environment: ["VPP_DATABASE_MAX_CONNECTIONS": bad])
            configuration.databaseURL = "sqlite://\(folder.path)/vpp.sqlite"
            #expect(configuration.databaseMaxConnectionsProblem?.contains("VPP_DATABASE_MAX_CONNECTIONS") == true)
            var quiet = Logger(label: "test")
            quiet.logLevel = .critical
            await #expect {
                _ = try await VPPRuntime.start(configuration, migrate: true, logger: quiet)
            } throws: { error in
                "\(error)".contains("VPP_DATABASE_MAX_CONNECTIONS") && "\(error)".contains(bad)
            }
            #expect(!FileManager.default.fileExists(atPath: folder.path), "nothing was created")
        }
    }
}
