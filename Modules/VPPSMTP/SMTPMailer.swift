import Foundation
import NIOCore
import NIOExtras
import NIOPosix
import NIOSSL
import VPPUseCases

/// Sends mail over SMTP (plain or STARTTLS, with or without AUTH PLAIN) on SwiftNIO.
public struct SMTPMailer: Mailer {
    let configuration: SMTPConfiguration

    public init(configuration: SMTPConfiguration) { self.configuration = configuration }

    public func send(to recipients: [String], subject: String, body: String) async throws {
        guard !recipients.isEmpty else { return }
        let configuration = self.configuration
        let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
        do {
            channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(.seconds(10))
                .connect(host: configuration.host, port: configuration.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(LineBasedFrameDecoder()))
                        return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            throw SMTPError.connection("\(configuration.host):\(configuration.port): \(error)")
        }
        let message = Self.message(from: configuration.from, to: recipients, subject: subject, body: body)
        // A server that stops answering must not hold a worker forever: race the conversation against the deadline.
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await Self.converse(channel, configuration: configuration, recipients: recipients, message: message)
            }
            group.addTask {
                try await Task.sleep(for: configuration.timeout)
                channel.channel.close(promise: nil)
                throw SMTPError.connection("no answer within \(configuration.timeout)")
            }
            defer { group.cancelAll() }
            try await group.next()
        }
    }

    private static func converse(
        _ channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>,
        configuration: SMTPConfiguration,
        recipients: [String],
        message: String
    ) async throws {
        try await channel.executeThenClose { inbound, outbound in
            var session = SMTPSession(lines: inbound.makeAsyncIterator(), outbound: outbound)
            try await session.expect(220, after: "connect")
            var features = try await session.command("EHLO vpp.local", expect: 250)
            if configuration.startTLS {
                guard features.contains(where: { $0.uppercased().hasPrefix("STARTTLS") }) else {
                    throw SMTPError.startTLSUnavailable
                }
                _ = try await session.command("STARTTLS", expect: 220)
                try await startTLS(on: channel.channel, configuration: configuration)
                features = try await session.command("EHLO vpp.local", expect: 250)
            }
            if let user = configuration.username, let password = configuration.password {
                let credentials = Data("\u{0}\(user)\u{0}\(password)".utf8).base64EncodedString()
                _ = try await session.command("AUTH PLAIN \(credentials)", expect: 235, shownAs: "AUTH PLAIN ***")
            }
            _ = try await session.command("MAIL FROM:<\(configuration.from)>", expect: 250)
            for recipient in recipients { _ = try await session.command("RCPT TO:<\(recipient)>", expect: 250) }
            _ = try await session.command("DATA", expect: 354)
            _ = try await session.command(message + "\r\n.", expect: 250, shownAs: "the message")
            _ = try? await session.command("QUIT", expect: 221)
        }
    }

    private static func startTLS(on channel: any Channel, configuration: SMTPConfiguration) async throws {
        var tls = TLSConfiguration.makeClientConfiguration()
        if let path = configuration.trustedCertificatePath {
            tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(path))
        }
        let isIPAddress = configuration.host.allSatisfy { $0.isNumber || $0 == "." || $0 == ":" }
        // SNI cannot carry an IP address; the certificate is then checked for the chain only.
        if isIPAddress { tls.certificateVerification = .noHostnameVerification }
        let context = try NIOSSLContext(configuration: tls)
        let hostname = isIPAddress ? nil : configuration.host
        // The TLS handler is created and added on the channel's event loop (it is not Sendable).
        try await channel.eventLoop.submit {
            try channel.pipeline.syncOperations.addHandler(
                NIOSSLClientHandler(context: context, serverHostname: hostname),
                position: .first
            )
        }.get()
    }

    /// RFC 5322 message with CRLF line ends and dot-stuffing.
    static func message(from: String, to recipients: [String], subject: String, body: String) -> String {
        let date = DateFormatter()
        date.locale = Locale(identifier: "en_US_POSIX")
        date.dateFormat = "EEE, dd MMM yyyy HH:mm:ss Z"
        let headers = [
            "From: vpp <\(from)>", "To: \(recipients.joined(separator: ", "))", "Subject: \(subject)",
            "Date: \(date.string(from: Date()))", "Message-ID: <\(UUID().uuidString)@vpp>",
            "MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: 8bit",
        ]
        let lines = body.replacingOccurrences(of: "\r\n", with: "\n").split(
            separator: "\n",
            omittingEmptySubsequences: false
        )
        .map { $0.hasPrefix(".") ? "." + $0 : String($0) }
        return (headers + [""] + lines).joined(separator: "\r\n")
    }
}

/// The request/reply rhythm of SMTP over line-framed input.
struct SMTPSession {
    var lines: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>

    /// Reads one (possibly multi-line) reply; returns its code and text lines.
    mutating func reply() async throws -> (Int, [String]) {
        var texts: [String] = []
        while let buffer = try await lines.next() {
            let line = String(buffer: buffer)
            guard line.count >= 3, let code = Int(line.prefix(3)) else {
                throw SMTPError.connection("unreadable reply \"\(line.prefix(80))\"")
            }
            texts.append(String(line.dropFirst(4)))
            if line.count == 3 || line[line.index(line.startIndex, offsetBy: 3)] == " " { return (code, texts) }
        }
        throw SMTPError.connection("the server closed the connection")
    }

    mutating func expect(_ code: Int, after command: String) async throws {
        let (got, text) = try await reply()
        guard got == code else {
            throw SMTPError.rejected(command: command, reply: "\(got) \(text.joined(separator: " "))")
        }
    }

    mutating func command(_ line: String, expect code: Int, shownAs: String? = nil) async throws -> [String] {
        try await outbound.write(ByteBuffer(string: line + "\r\n"))
        let (got, text) = try await reply()
        guard got == code else {
            throw SMTPError.rejected(
                command: shownAs ?? String(line.prefix(40)),
                reply: "\(got) \(text.joined(separator: " "))"
            )
        }
        return text
    }
}
