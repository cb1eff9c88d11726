import Foundation
import VPPDomain

/// What makes a queued job unique within its tenant and kind: one queued job per key. Declared once here (with
/// the meaning of each shape) and stored as text; a key read back from the queue keeps its stored text.
public struct JobKey: Hashable, Sendable, RawRepresentable, CustomStringConvertible {
    public let rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }

    public var description: String { rawValue }

    /// One job for the whole tenant (event polls, notices): a burst of requests is one job.
    public static let tenant = JobKey(rawValue: "all")

    /// One job per token (syncs).
    public static func token(_ id: TokenID) -> JobKey { JobKey(rawValue: id.description) }

    /// The token a ``token(_:)`` key names.
    public var tokenID: TokenID? { TokenID(uuidString: rawValue) }

    /// One job per second it is due: triggers that arrive while the previous one runs queue the next (reclaims at
    /// a device's grace end, scope reconciles).
    public static func due(_ at: Date) -> JobKey { JobKey(rawValue: "at-\(Int(at.timeIntervalSince1970))") }

    /// One job per 15-second window (MDM deliveries and webhook events: every replica asks, one runs).
    public static func window(_ at: Date) -> JobKey { JobKey(rawValue: "w\(Int(at.timeIntervalSince1970) / 15)") }

    /// A periodic sweep, once per minute whichever replica asks first.
    public static func sweep(_ at: Date) -> JobKey { JobKey(rawValue: "sweep-\(Int(at.timeIntervalSince1970 / 60))") }
}
