import Crypto
import Foundation

/// A KMFDDM-compatible API (jessepeterson/kmfddm, `http/api`): declarations, sets, enrollments' sets and the
/// declaration status, Basic `kmfddm:<API key>`. Changes answer 204, repeats 304, errors `{"error": …}`; every
/// change of an enrollment's sets is recorded with its time, and the enrollments a change touches evaluate their
/// declarations again (KMFDDM would notify them through the MDM server).
extension MDMSimulator {
    /// The answer to one KMFDDM request: status and JSON body (nil for none).
    public typealias KMFDDMAnswer = (status: Int, body: Data?)

    static func errorBody(_ message: String) -> Data {
        (try? JSONSerialization.data(withJSONObject: ["error": message])) ?? Data()
    }

    static func jsonBody(_ object: Any) -> Data {
        (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("null".utf8)
    }

    /// Whether `authorization` is KMFDDM's Basic `kmfddm:<key>` with this simulator's API key.
    func kmfddmAuthorized(_ authorization: String?) -> Bool {
        authorization == "Basic " + Data("kmfddm:\(apiKey)".utf8).base64EncodedString()
    }

    /// The server's faults apply to KMFDDM's API too (one server): `down` answers 503, `slow` waits first.
    /// Nil lets the request through.
    func kmfddmGate() async -> KMFDDMAnswer? {
        ddm.stats.apiRequests += 1
        if fault == .slow, delayMilliseconds > 0 { try? await Task.sleep(for: .milliseconds(delayMilliseconds)) }
        switch fault {
        case .down: return (503, Self.errorBody("service unavailable"))
        case .error500: return (500, Self.errorBody("simulated storage failure"))
        default: return nil
        }
    }

    /// `PUT /v1/declarations`: stores by `Identifier`; 304 when the same declaration is stored again.
    public func putDeclaration(_ body: Data, notify: Bool = true) -> KMFDDMAnswer {
        guard let object = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] else {
            return (400, Self.errorBody("parsing declaration: not a JSON object"))
        }
        guard let identifier = object["Identifier"] as? String, !identifier.isEmpty,
            let type = object["Type"] as? String, !type.isEmpty
        else { return (400, Self.errorBody("parsing declaration: invalid declaration")) }
        // KMFDDM makes a token from the content when none is given.
        let token =
            object["ServerToken"] as? String
            ?? SHA256.hash(data: body).prefix(8).map { String(format: "%02x", $0) }.joined()
        let payload = object["Payload"] as? [String: Any]
        let licence = ((payload?["InstallBehavior"] as? [String: Any])?["License"] as? [String: Any])
        let appStoreID = (payload?["AppStoreID"] as? String) ?? (payload?["AppStoreID"] as? Int).map(String.init)
        let declaration = DDMDeclaration(
            identifier: identifier,
            type: type,
            serverToken: token,
            raw: body,
            appStoreID: appStoreID,
            licenceAssignment: licence?["Assignment"] as? String
        )
        if let stored = ddm.declarations[identifier], stored.raw == body {
            ddm.stats.declarationsUnchanged += 1
            return (304, nil)
        }
        ddm.declarations[identifier] = declaration
        ddm.stats.declarationsStored += 1
        if notify { notifyDeclarations([identifier]) }
        return (204, nil)
    }

    /// `POST /v1/declarations/{id}/touch`: a new ServerToken, so devices evaluate it again.
    public func touchDeclaration(_ identifier: String) -> KMFDDMAnswer {
        guard let stored = ddm.declarations[identifier],
            var object = (try? JSONSerialization.jsonObject(with: stored.raw)) as? [String: Any]
        else { return (404, Self.errorBody("declaration not found")) }
        object["ServerToken"] = UUID().uuidString.lowercased()
        ddm.declarations[identifier] = nil
        return putDeclaration(Self.jsonBody(object)).status == 204 ? (204, nil) : (500, Self.errorBody("touch"))
    }

    public func getDeclaration(_ identifier: String) -> KMFDDMAnswer {
        guard let stored = ddm.declarations[identifier] else { return (404, Self.errorBody("declaration not found")) }
        return (200, stored.raw)
    }

    public func listDeclarations() -> KMFDDMAnswer { (200, Self.jsonBody(ddm.declarations.keys.sorted())) }

    /// `DELETE /v1/declarations/{id}`: KMFDDM assumes the declaration is in no set and notifies nobody.
    public func deleteDeclaration(_ identifier: String) -> KMFDDMAnswer {
        ddm.declarations.removeValue(forKey: identifier) == nil ? (304, nil) : (204, nil)
    }

    /// `GET /v1/sets`: every set that holds a declaration or an enrollment.
    public func listSets() -> KMFDDMAnswer {
        let names = Set(ddm.setDeclarations.filter { !$0.value.isEmpty }.keys)
            .union(ddm.enrollmentSets.values.flatMap { $0 })
        return (200, Self.jsonBody(names.sorted()))
    }

    /// `PUT|DELETE /v1/set-declarations/{set}?declaration={id}`.
    public func changeSetDeclaration(set: String, declaration: String?, add: Bool) -> KMFDDMAnswer {
        guard let declaration, !declaration.isEmpty else { return (500, Self.errorBody("empty declaration")) }
        guard !add || ddm.declarations[declaration] != nil else {
            return (500, Self.errorBody("declaration not found: \(declaration)"))
        }
        let changed =
            add
            ? ddm.setDeclarations[set, default: []].insert(declaration).inserted
            : ddm.setDeclarations[set]?.remove(declaration) != nil
        if changed { schedule(ddm.enrollments(in: [set])) }
        return changed ? (204, nil) : (304, nil)
    }

    /// `GET /v1/set-declarations/{set}`: the declaration ids of a set (204 for none, as KMFDDM's null).
    public func setDeclarations(_ set: String) -> KMFDDMAnswer {
        guard let ids = ddm.setDeclarations[set], !ids.isEmpty else { return (204, nil) }
        return (200, Self.jsonBody(ids.sorted()))
    }

    /// `GET /v1/declaration-sets/{id}`: the sets holding a declaration.
    public func declarationSets(_ identifier: String) -> KMFDDMAnswer {
        let sets = ddm.setDeclarations.filter { $0.value.contains(identifier) }.keys.sorted()
        return sets.isEmpty ? (204, nil) : (200, Self.jsonBody(sets))
    }

    /// `PUT|DELETE /v1/enrollment-sets/{enrollmentId}?set={set}`; recorded with its time, repeats too.
    public func changeEnrollmentSet(enrollmentID: String, set: String?, add: Bool) -> KMFDDMAnswer {
        guard let set, !set.isEmpty else { return (500, Self.errorBody("empty set name")) }
        let changed =
            add
            ? ddm.enrollmentSets[enrollmentID, default: []].insert(set).inserted
            : ddm.enrollmentSets[enrollmentID]?.remove(set) != nil
        ddm.setChanges.append(
            DDMSetChange(
                at: Date().timeIntervalSince1970,
                enrollmentID: enrollmentID,
                serialNumber: devices[enrollmentID]?.serialNumber,
                set: set,
                kind: add ? .join : .leave,
                changed: changed
            )
        )
        if changed {
            ddm.stats.setChanges += 1
            schedule([enrollmentID])
        } else {
            ddm.stats.setRepeats += 1
        }
        return changed ? (204, nil) : (304, nil)
    }

    /// `GET /v1/enrollment-sets/{enrollmentId}`.
    public func enrollmentSets(_ enrollmentID: String) -> KMFDDMAnswer {
        guard let sets = ddm.enrollmentSets[enrollmentID], !sets.isEmpty else { return (204, nil) }
        return (200, Self.jsonBody(sets.sorted()))
    }

    /// `GET /v1/declaration-status/{ids}`: per enrollment, the declarations the device reported on.
    public func declarationStatus(_ enrollmentIDs: [String]) -> KMFDDMAnswer {
        var result: [String: Any] = [:]
        for id in enrollmentIDs {
            let effective = ddm.effectiveDeclarations(id)
            result[id] = (ddm.apps[id] ?? [:]).values.sorted { $0.declarationIdentifier < $1.declarationIdentifier }
                .map { app -> [String: Any] in
                    [
                        "identifier": app.declarationIdentifier,
                        "active": !app.removed,
                        "valid": app.state == "failed" ? "invalid" : "valid",
                        "server-token": app.serverToken,
                        "current": effective.contains(app.declarationIdentifier)
                            && ddm.declarations[app.declarationIdentifier]?.serverToken == app.serverToken,
                        "reasons": app.reasons.map { ["code": $0] },
                    ]
                }
        }
        return (200, Self.jsonBody(result))
    }

    /// Keeps a device's status report as KMFDDM does (newest last).
    func keepStatusReport(enrollmentID: String, _ report: Data) {
        var kept = ddm.reports[enrollmentID] ?? []
        kept.append(
            DDMStoredReport(
                raw: report,
                receivedAt: Date(),
                statusID: UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(16).description
            )
        )
        ddm.reports[enrollmentID] = Array(kept.suffix(DDMState.keptReports))
        ddm.stats.reportsKept += 1
    }

    /// `GET /v1/status-report/{id}?index=N|status_id=S` (KMFDDM `http/api/status.go`): the raw report (index 0 the
    /// newest) with `Last-Modified`, `X-Status-Report-Index` and `X-Status-Report-ID`; 400 without index or status
    /// id (as KMFDDM's storage refuses), 404 when there is no such report.
    public func statusReport(
        enrollmentID: String,
        index: String?,
        statusID: String?
    ) -> (status: Int, body: Data, headers: [String: String]) {
        ddm.stats.statusReportReads += 1
        let kept = ddm.reports[enrollmentID] ?? []
        let position: Int?
        if let statusID, !statusID.isEmpty {
            position = kept.lastIndex { $0.statusID == statusID }.map { kept.count - 1 - $0 }
        } else if let index {
            guard let number = Int(index), number >= 0 else {
                return (400, Self.errorBody("parsing index: invalid syntax"), [:])
            }
            position = number
        } else {
            return (400, Self.errorBody("status ID and index cannot both be empty"), [:])
        }
        guard let position, position < kept.count else {
            return (404, Self.errorBody("status report not found"), [:])
        }
        let report = kept[kept.count - 1 - position]
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return (
            200, report.raw,
            [
                "Last-Modified": formatter.string(from: report.receivedAt),
                "X-Status-Report-Index": "\(position)",
                "X-Status-Report-ID": report.statusID,
            ]
        )
    }

    /// Every recorded change of enrollments' sets (`GET /sim/ddm/set-changes`), oldest first.
    public func recordedSetChanges() -> [DDMSetChange] { ddm.setChanges }

    /// The enrollments that hold a changed declaration evaluate again.
    func notifyDeclarations(_ identifiers: Set<String>) {
        let sets = Set(ddm.setDeclarations.filter { !$0.value.isDisjoint(with: identifiers) }.keys)
        schedule(ddm.enrollments(in: sets))
    }
}
