import Foundation
import NIOPosix
import Testing
import VPPDomain
import VPPSMTP
import VPPTestSupport
import VPPUseCases

/// Against the real SMTP server `Scripts/test.sh` starts (aiosmtpd): messages are read back from its folder.
@Suite("SMTP mailer against a real SMTP server", .serialized)
struct SMTPTests {
    struct Missing: Error, CustomStringConvertible {
        let description =
            "VPP_TEST_SMTP_* are not set: run the tests with Scripts/test.sh, which starts the SMTP server."
    }

    static func env(_ name: String) throws -> String {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else { throw Missing() }
        return value
    }

    /// Messages delivered since `before`, as text.
    static func delivered(after before: Set<String>) throws -> [String] {
        let folder = try env("VPP_TEST_SMTP_DIR")
        let names = try FileManager.default.contentsOfDirectory(atPath: folder).filter {
            $0.hasSuffix(".eml") && !before.contains($0)
        }
        return try names.sorted().map { try String(contentsOfFile: "\(folder)/\($0)", encoding: .utf8) }
    }

    static func snapshot() throws -> Set<String> {
        Set(try FileManager.default.contentsOfDirectory(atPath: try env("VPP_TEST_SMTP_DIR")))
    }

    @Test("plain SMTP delivers the message with its recipients and subject")
    func plain() async throws {
        let before = try Self.snapshot()
        let mailer = SMTPMailer(
            configuration: try SMTPConfiguration(
                url: "smtp://\(try Self.env("VPP_TEST_SMTP_PLAIN"))?from=vpp@acme.example"
            )
        )
        try await mailer.send(
            to: ["it@acme.example", "ops@acme.example"],
            subject: "Token expires in 7 days",
            body: "Line one\n.starts with a dot"
        )
        let messages = try Self.delivered(after: before)
        #expect(messages.count == 1)
        let message = try #require(messages.first)
        #expect(message.contains("X-Envelope-To: it@acme.example,ops@acme.example"))
        #expect(message.contains("Subject: Token expires in 7 days"))
        #expect(message.contains(".starts with a dot"), "dot-stuffing is undone by the server")
        #expect(message.contains("X-TLS: False"))
    }

    @Test("STARTTLS with authentication, trusting a private CA")
    func startTLSWithAuth() async throws {
        let before = try Self.snapshot()
        let (server, ca) = (try Self.env("VPP_TEST_SMTP_TLS"), try Self.env("VPP_TEST_SMTP_CA"))
        let url = "smtp://vpp:s3cret@\(server)?from=vpp@acme.example&starttls=true&ca=\(ca)"
        try await SMTPMailer(configuration: try SMTPConfiguration(url: url)).send(
            to: ["it@acme.example"],
            subject: "Secure",
            body: "Hello"
        )
        let message = try #require(try Self.delivered(after: before).first)
        #expect(message.contains("X-TLS: True") && message.contains("X-Authenticated: True"))
    }

    @Test("a wrong password is refused without the password appearing anywhere")
    func wrongPassword() async throws {
        let (server, ca) = (try Self.env("VPP_TEST_SMTP_TLS"), try Self.env("VPP_TEST_SMTP_CA"))
        let url = "smtp://vpp:WRONGPASS@\(server)?starttls=true&ca=\(ca)"
        let configuration = try SMTPConfiguration(url: url)
        #expect(!configuration.description.contains("WRONGPASS"))
        do {
            try await SMTPMailer(configuration: configuration).send(to: ["it@acme.example"], subject: "x", body: "y")
            Issue.record("a wrong password must be refused")
        } catch let error as SMTPError {
            guard case .rejected(let command, _) = error else {
                Issue.record("got \(error)")
                return
            }
            #expect(command == "AUTH PLAIN ***" && !"\(error)".contains("WRONGPASS"))
        }
    }

    @Test("STARTTLS required but not offered, and a password without TLS, are refused")
    func refusals() async throws {
        let plain = try Self.env("VPP_TEST_SMTP_PLAIN")
        await #expect(throws: SMTPError.startTLSUnavailable) {
            try await SMTPMailer(configuration: try SMTPConfiguration(url: "smtp://\(plain)?starttls=true")).send(
                to: ["a@b.example"],
                subject: "x",
                body: "y"
            )
        }
        #expect(throws: SMTPError.self) { try SMTPConfiguration(url: "smtp://u:p@\(plain)?starttls=false") }
        #expect(throws: SMTPError.self) { try SMTPConfiguration(url: "http://x") }
        await #expect(throws: SMTPError.self) {
            try await SMTPMailer(configuration: try SMTPConfiguration(url: "smtp://127.0.0.1:1")).send(
                to: ["a@b.example"],
                subject: "x",
                body: "y"
            )
        }
    }

    @Test("a server that accepts but never answers is abandoned at the deadline (regression: the client waited 300 s)")
    func silentServer() async throws {
        let listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in channel.eventLoop.makeSucceededVoidFuture() }
            .bind(host: "127.0.0.1", port: 0).get()
        defer { listener.close(promise: nil) }
        let port = try #require(listener.localAddress?.port)
        let started = ContinuousClock.now
        await #expect(throws: SMTPError.self) {
            try await SMTPMailer(configuration: try SMTPConfiguration(url: "smtp://127.0.0.1:\(port)?timeout=0.5"))
                .send(to: ["a@b.example"], subject: "x", body: "y")
        }
        #expect(ContinuousClock.now - started < .seconds(5))
    }

    @Test(
        "expiry notices reach the mailbox exactly once, and a failed delivery is retried later",
        arguments: [StoreKind.postgres]
    )
    func noticesBySMTP(kind: StoreKind) async throws {
        try await withWorld(kind) { (world) async throws in
            let (file, _) = try await world.location("Main Campus", assets: [keynoteSim], validDays: 6)
            _ = try await world.useCases.uploadToken(
                world.admin,
                file: file,
                noticeRecipients: ["it@acme.example"]
            )
            _ = try await world.useCases.planNotices(world.tenant.id)
            let broken = DeliverNotices(
                store: world.store,
                clock: world.clock,
                mailer: SMTPMailer(configuration: try SMTPConfiguration(url: "smtp://127.0.0.1:1"))
            )
            #expect(try await broken(world.tenant.id) == 0)
            let failed = try await world.store.inTenant(world.tenant.id) { (tx) async throws in try await tx.notices() }
            #expect(failed.first?.lastError != nil && failed.first?.nextAttemptAt ?? .distantPast > world.clock.now())
            let before = try Self.snapshot()
            let real = DeliverNotices(
                store: world.store,
                clock: world.clock,
                mailer: SMTPMailer(
                    configuration: try SMTPConfiguration(
                        url: "smtp://\(try Self.env("VPP_TEST_SMTP_PLAIN"))?from=vpp@acme.example"
                    )
                )
            )
            #expect(try await real(world.tenant.id) == 0, "not before its retry time")
            world.clock.advance(days: 0.01)
            #expect(try await real(world.tenant.id) == 1)
            #expect(try await real(world.tenant.id) == 0)
            _ = try await world.useCases.planNotices(world.tenant.id)
            #expect(try await real(world.tenant.id) == 0, "planning again queues nothing new")
            let messages = try Self.delivered(after: before)
            #expect(
                messages.count == 1 && messages[0].contains("Subject: Content token for Main Campus expires in 6 days")
            )
        }
    }
}
