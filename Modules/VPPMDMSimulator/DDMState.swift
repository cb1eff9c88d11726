import Foundation

/// A declaration as the simulated KMFDDM holds it: the raw JSON it was given, and what devices read from it.
public struct DDMDeclaration: Sendable {
    public let identifier: String
    public let type: String
    public let serverToken: String
    /// The JSON exactly as stored (KMFDDM answers `GET /v1/declarations/{id}` with it).
    public let raw: Data
    /// `Payload.AppStoreID` of a `com.apple.configuration.app.managed` declaration.
    public let appStoreID: String?
    /// `Payload.InstallBehavior.License.Assignment`: `Device` or `User`.
    public let licenceAssignment: String?

    static let managedAppType = "com.apple.configuration.app.managed"
}

/// One change of an enrollment's sets as the simulated KMFDDM received it; `changed` is false for a repeat
/// that KMFDDM answers 304.
public struct DDMSetChange: Sendable, Codable, Equatable {
    public enum Kind: String, Sendable, Codable { case join, leave }

    /// Seconds since 1970 (vppsim's licence log uses the same clock), with sub-millisecond precision.
    public let at: Double
    public let enrollmentID: String
    /// The enrolled device's serial number, when the enrollment is one of the simulated devices.
    public let serialNumber: String?
    public let set: String
    public let kind: Kind
    public let changed: Bool
}

/// An app a simulated device manages by declaration, as its `app.managed.list` status item says.
public struct DDMDeviceApp: Sendable, Codable, Equatable {
    public let declarationIdentifier: String
    public let bundleID: String
    /// The declaration's ServerToken when the device last evaluated it: the device does not evaluate the same
    /// token again (Apple's devices do not retry a failed app by themselves).
    public let serverToken: String
    public var state: String
    public var reasons: [String]
    /// The declaration no longer applies: the app was removed and the item is reported `_removed`.
    public var removed: Bool
    /// How many times the device evaluated this declaration.
    public var evaluations: Int
}

/// What happens to the status reports simulated devices send, and which device misreports.
public enum DDMFault: String, Sendable, Codable, CaseIterable {
    case none
    /// Reports are built but never sent.
    case lost
    /// Reports are sent after `delayMilliseconds`.
    case late
    /// The device reports `managed-but-uninstalled` where it would report `managed` (the user removed the app).
    case uninstalled
}

/// Where simulated devices send their status reports.
public enum DDMStatusRoute: String, Sendable, Codable, CaseIterable {
    /// `POST {vpp}/v1/device-status/{enrollmentId}` with the report's JSON and a vpp API key.
    case post
    /// A DeclarativeManagement check-in (`Endpoint` `status`) on the MDM webhook, as NanoMDM forwards it.
    case webhook
    /// Kept only by KMFDDM (the devices' check-ins go to it behind NanoMDM): vpp reads them back with
    /// `GET /v1/status-report/{enrollmentId}`.
    case kmfddm
}

/// A user's own enrollment on a simulated device (a User Enrollment, or a Mac's user channel): an enrollment id of
/// its own, signed in as a VPP user, so it evaluates `License.Assignment: User` declarations against that user's
/// licences.
public struct DDMUserEnrollment: Sendable, Codable, Equatable {
    public let enrollmentID: String
    /// The device the user is enrolled on.
    public let udid: String
    public let clientUserID: String
}

/// A status report as the simulated KMFDDM keeps it (`GET /v1/status-report/{id}?index=N` answers it).
public struct DDMStoredReport: Sendable {
    public let raw: Data
    public let receivedAt: Date
    /// KMFDDM names a report by the trace id of the request that brought it.
    public let statusID: String
}

/// Counters of the declarative side, for tests and benchmarks.
public struct DDMStats: Sendable, Codable {
    /// KMFDDM API requests received (counted before a `slow` fault's wait).
    public var apiRequests = 0
    public var declarationsStored = 0
    public var declarationsUnchanged = 0
    public var setChanges = 0
    public var setRepeats = 0
    public var evaluations = 0
    public var licenceLookups = 0
    public var licenceLookupFailures = 0
    public var licenceNotFound = 0
    public var reportsSent = 0
    public var reportsFailed = 0
    public var reportsLost = 0
    /// Reports KMFDDM keeps (every report a device sends, whatever else receives it) and reads of them.
    public var reportsKept = 0
    public var statusReportReads = 0
}

/// Everything the simulated KMFDDM and the devices' declarative side keep.
struct DDMState: Sendable {
    var declarations: [String: DDMDeclaration] = [:]
    var setDeclarations: [String: Set<String>] = [:]
    var enrollmentSets: [String: Set<String>] = [:]
    var setChanges: [DDMSetChange] = []
    /// By enrollment id (the device's UDID), then by declaration identifier.
    var apps: [String: [String: DDMDeviceApp]] = [:]
    /// The status reports KMFDDM keeps, by enrollment id, oldest first (the newest `keptReports`).
    var reports: [String: [DDMStoredReport]] = [:]
    /// Users' own enrollments, by their enrollment id.
    var userEnrollments: [String: DDMUserEnrollment] = [:]
    static let keptReports = 20
    /// Enrollments with an evaluation already scheduled (changes coalesce into one sync).
    var scheduled: Set<String> = []
    var stats = DDMStats()
    var vppsimURL: String?
    var statusURL: String?
    var statusAPIKey: String?
    var statusRoute: DDMStatusRoute = .post
    var evaluationDelayMilliseconds = 200
    var fault: DDMFault = .none
    var faultDelayMilliseconds = 0
    /// The devices a fault applies to; empty means every device.
    var faultSerials: Set<String> = []

    /// The declarations an enrollment's sets give it.
    func effectiveDeclarations(_ enrollmentID: String) -> Set<String> {
        var ids: Set<String> = []
        for set in enrollmentSets[enrollmentID] ?? [] { ids.formUnion(setDeclarations[set] ?? []) }
        return ids.filter { declarations[$0] != nil }
    }

    /// Enrollments whose sets hold any of `sets`.
    func enrollments(in sets: Set<String>) -> [String] {
        enrollmentSets.filter { !$0.value.isDisjoint(with: sets) }.map(\.key)
    }

    func faultApplies(to serial: String?, _ fault: DDMFault) -> Bool {
        self.fault == fault && (faultSerials.isEmpty || serial.map(faultSerials.contains) == true)
    }
}
