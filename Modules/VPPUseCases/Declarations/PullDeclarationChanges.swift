import Foundation
import VPPDomain

/// One queued declaration-set change as a pulling DDM server reads it: the enrollment to put in (or take out of)
/// the app's set and, for a join, the declaration document to store first.
public struct DeclarationChangeView: Encodable, Sendable {
    public let id: String
    /// `join` or `leave`.
    public let change: String
    public let state: String
    /// The declaration's identifier, also the set's name.
    public let set: String
    /// The enrollment to change (nil while the device or user has none yet: skip it and read it again later).
    public let enrollmentId: String?
    public let serialNumber: String?
    public let clientUserId: String?
    /// A join's declaration document (JSON), as KMFDDM stores it; nil for a leave.
    public let declaration: String?
    public let createdAt: String
    /// Pass as `after` to continue after this change.
    public let cursor: String
}

/// The pull kind of DDM server: it polls the queued changes (`GET /v1/declaration-changes`), stores each join's
/// declaration, changes the set, and reports the change done or failed (`POST /v1/declaration-changes/{id}/ack`).
/// The order and the leave-first rule are kept by vpp as with the other kinds: a licence's disassociate waits for
/// its leave to be reported done. A heal's re-publication (a new ServerToken) is offered as the device's join again,
/// queued with the new document (the store re-queues it); its report done marks the declaration re-published.
public struct PullDeclarationChanges: Sendable {
    let store: any Store
    let clock: any Clock

    /// Takes only what this use case touches.
    public init(store: any Store, clock: any Clock) {
        self.store = store
        self.clock = clock
    }

    /// The queued changes after `after`, oldest first (at most 1,000).
    public func list(_ caller: Caller, after: DeviceCommandCursor?, limit: Int) async throws -> [DeclarationChangeView]
    {
        try caller.require(.read)
        return try await store.inTenant(caller.tenantID) { tx in
            let records = try await tx.queuedDeclarationSetChanges(after: after, limit: limit)
            var enrollments: [String: String] = [:]
            for serial in Set(records.filter { $0.change.clientUserID == nil }.map(\.change.serialNumber)) {
                if let number = try? SerialNumber(serial), let device = try await tx.mdmDevice(serial: number),
                    device.enrollment.state != .unenrolled, let id = device.enrollment.enrollmentID
                {
                    enrollments[serial] = id
                }
            }
            for (user, id) in try await tx.userEnrollments(records.compactMap(\.change.clientUserID)) {
                enrollments["user \(user.value)"] = id
            }
            let assets = Set(records.map(\.change.asset))
            let terms = try await DeliverDeclarationSetChanges.terms(tx, assets)
            let publications = records.isEmpty ? [:] : try await tx.declarationPublications()
            return records.map { record in
                let change = record.change
                let declaration = try? ManagedAppDeclaration(
                    asset: change.asset,
                    assignment: change.licenceKind,
                    terms: terms[change.asset] ?? .standard
                )
                let document =
                    change.kind == .join
                    ? (try? declaration?.document(publication: publications[declaration?.identifier ?? ""] ?? 0))
                        .map { String(decoding: $0, as: UTF8.self) } : nil
                return DeclarationChangeView(
                    id: change.id.uuidString.lowercased(),
                    change: change.kind.rawValue,
                    state: record.state.rawValue,
                    set: declaration?.identifier ?? "",
                    enrollmentId: enrollments[change.enrollee],
                    serialNumber: change.clientUserID == nil ? change.serialNumber : nil,
                    clientUserId: change.clientUserID?.value,
                    declaration: document,
                    createdAt: ISO8601Timestamp.format(change.createdAt),
                    cursor: DeviceCommandCursor(createdAt: change.createdAt, id: change.id).description
                )
            }
        }
    }

    /// The DDM server reports a change `done` or `failed` (with its reason); a change no longer queued is refused.
    public func acknowledge(
        _ caller: Caller,
        id: UUID,
        status: String,
        error: String?
    ) async throws
        -> DeclarationSetChangeView
    {
        try caller.require(.manageLicences)
        guard let state = DeclarationSetChangeState(rawValue: status), state != .queued else {
            throw MDMError.badAcknowledgement("status must be done or failed (got \"\(status.prefix(40))\")")
        }
        let reason = state == .failed ? String((error ?? "failed at the DDM server").prefix(500)) : nil
        let now = clock.now()
        return try await store.inTenant(caller.tenantID) { tx in
            guard let record = try await tx.completeDeclarationSetChange(id, state: state, lastError: reason, at: now)
            else { throw MDMError.unknownDeclarationChange(id) }
            guard record.state == state else {
                throw MDMError.badAcknowledgement("change is already \(record.state.rawValue)")
            }
            // A join offered again for a heal's re-publication: the DDM server now holds the new ServerToken.
            if state == .done, record.change.kind == .join, record.healStep == .republishing,
                let declaration = try? ManagedAppDeclaration(
                    asset: record.change.asset,
                    assignment: record.change.licenceKind
                )
            {
                let publication = try await tx.declarationPublications()[declaration.identifier] ?? 0
                try await tx.markRepublished(
                    asset: record.change.asset,
                    kind: record.change.licenceKind,
                    publication: publication,
                    now: now
                )
                return DeclarationSetChangeView(
                    try await tx.declarationSetChanges(serial: record.change.serialNumber, limit: 1000)
                        .first { $0.change.id == id } ?? record
                )
            }
            return DeclarationSetChangeView(record)
        }
    }
}
