import Foundation

/// Sends e-mail (expiry and health notices).
public protocol Mailer: Sendable {
    func send(to recipients: [String], subject: String, body: String) async throws
}
