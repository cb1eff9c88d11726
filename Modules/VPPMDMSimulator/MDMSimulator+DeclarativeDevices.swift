import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat

/// Simulated devices managing apps by declaration, the way Apple documents it: after a short delay the device
/// evaluates each `com.apple.configuration.app.managed` declaration its sets give it — installed (`managed`) if
/// Apple (vppsim, asked over HTTP) holds a licence of the declared kind for it, otherwise `failed` with
/// `Error.LicenseNotFound` — and does not evaluate the same ServerToken again by itself. A declaration that no
/// longer applies removes the app (`_removed`). Each change is reported to vpp as a status report.
extension MDMSimulator {
    /// Sets where devices report and whom they ask about licences; nil leaves a setting as it is.
    public func configureDDM(
        vppsimURL: String?,
        statusURL: String?,
        statusAPIKey: String?,
        statusRoute: DDMStatusRoute?,
        evaluationDelayMilliseconds: Int?
    ) {
        if let vppsimURL { ddm.vppsimURL = vppsimURL.isEmpty ? nil : vppsimURL }
        if let statusURL { ddm.statusURL = statusURL.isEmpty ? nil : statusURL }
        if let statusAPIKey { ddm.statusAPIKey = statusAPIKey.isEmpty ? nil : statusAPIKey }
        if let statusRoute { ddm.statusRoute = statusRoute }
        if let evaluationDelayMilliseconds { ddm.evaluationDelayMilliseconds = evaluationDelayMilliseconds }
    }

    /// Turns a status fault on for `serials` (every device when empty), or off with `.none`.
    public func setDDMFault(_ fault: DDMFault, delayMilliseconds: Int, serials: [String]) {
        ddm.fault = fault
        ddm.faultDelayMilliseconds = delayMilliseconds
        ddm.faultSerials = Set(serials)
    }

    public var ddmStats: DDMStats { ddm.stats }

    /// Enrolls `clientUserID` on the device `udid` with an enrollment of its own (`POST /sim/ddm/user-enrollments`);
    /// false when there is no such device or the id is a device's.
    public func addUserEnrollment(udid: String, enrollmentID: String, clientUserID: String) -> Bool {
        guard devices[udid] != nil, devices[enrollmentID] == nil, !enrollmentID.isEmpty, !clientUserID.isEmpty else {
            return false
        }
        ddm.userEnrollments[enrollmentID] = DDMUserEnrollment(
            enrollmentID: enrollmentID,
            udid: udid,
            clientUserID: clientUserID
        )
        return true
    }

    /// Every simulated device's declared apps (`GET /sim/ddm/devices`), by serial number.
    public func declaredApps() -> [String: [DDMDeviceApp]] {
        var result: [String: [DDMDeviceApp]] = [:]
        for (udid, apps) in ddm.apps {
            let key = devices[udid]?.serialNumber ?? udid
            result[key] = apps.values.sorted { $0.declarationIdentifier < $1.declarationIdentifier }
        }
        return result
    }

    /// Schedules one evaluation of each enrollment after the configured delay (several changes coalesce).
    func schedule(_ enrollmentIDs: [String]) {
        let delay = ddm.evaluationDelayMilliseconds
        for id in enrollmentIDs where ddm.scheduled.insert(id).inserted {
            Task {
                if delay > 0 { try? await Task.sleep(for: .milliseconds(delay)) }
                await self.evaluate(enrollmentID: id)
            }
        }
    }

    /// The device syncs: evaluates declarations it has not evaluated with their current ServerToken, removes
    /// apps whose declaration left it, and reports what changed.
    func evaluate(enrollmentID: String) async {
        ddm.scheduled.remove(enrollmentID)
        // A device's enrollment, or a user's own on a device.
        let user = ddm.userEnrollments[enrollmentID]
        guard let device = devices[user?.udid ?? enrollmentID], device.enrolled else { return }
        let effective = ddm.effectiveDeclarations(enrollmentID)
        var changed: [DDMDeviceApp] = []
        var retryLater = false
        for id in effective.sorted() {
            guard let declaration = ddm.declarations[id], declaration.type == DDMDeclaration.managedAppType else {
                continue
            }
            if let known = ddm.apps[enrollmentID]?[id], !known.removed, known.serverToken == declaration.serverToken {
                continue
            }
            guard let adamID = declaration.appStoreID else { continue }
            let found: Bool?
            if declaration.licenceAssignment == "Device" {
                found = await licenceExists(adamID: adamID, serial: device.serialNumber)
            } else if let user {
                found = await licenceExists(adamID: adamID, clientUserID: user.clientUserID)
            } else {
                found = false  // the device channel has no signed-in user: a User licence cannot be found
            }
            guard let found else {
                retryLater = true
                continue
            }
            // The declaration may have changed while Apple was asked: the next sync takes the new one.
            guard ddm.declarations[id]?.serverToken == declaration.serverToken,
                ddm.effectiveDeclarations(enrollmentID).contains(id)
            else { continue }
            ddm.stats.evaluations += 1
            let bundle = "com.example.app\(adamID)"
            var state = found ? "managed" : "failed"
            if found, ddm.faultApplies(to: device.serialNumber, .uninstalled) { state = "managed-but-uninstalled" }
            if !found { ddm.stats.licenceNotFound += 1 }
            let app = DDMDeviceApp(
                declarationIdentifier: id,
                bundleID: bundle,
                serverToken: declaration.serverToken,
                state: state,
                reasons: found ? [] : ["Error.LicenseNotFound"],
                removed: false,
                evaluations: (ddm.apps[enrollmentID]?[id]?.evaluations ?? 0) + 1
            )
            ddm.apps[enrollmentID, default: [:]][id] = app
            if state == "managed" {
                if devices[device.udid]?.installed.contains(bundle) == false {
                    devices[device.udid]?.installed.append(bundle)
                }
            } else {
                devices[device.udid]?.installed.removeAll { $0 == bundle }
            }
            changed.append(app)
        }
        let current = ddm.effectiveDeclarations(enrollmentID)
        for (id, app) in ddm.apps[enrollmentID] ?? [:] where !app.removed && !current.contains(id) {
            var gone = app
            gone.removed = true
            gone.state = "not-present"
            ddm.apps[enrollmentID]?[id] = gone
            devices[device.udid]?.installed.removeAll { $0 == app.bundleID }
            changed.append(gone)
        }
        if retryLater {
            ddm.scheduled.remove(enrollmentID)
            let id = enrollmentID
            Task {
                try? await Task.sleep(for: .seconds(1))
                await self.schedule([id])
            }
        }
        if !changed.isEmpty { await report(enrollmentID: enrollmentID, serial: device.serialNumber, changed) }
    }

    /// Asks vppsim's admin API whether a device licence for `adamID` exists for `serial` (or a user licence for
    /// `clientUserID`); nil when it cannot say.
    func licenceExists(adamID: String, serial: String? = nil, clientUserID: String? = nil) async -> Bool? {
        guard let base = ddm.vppsimURL else {
            logger.warning("no vppsim to ask about licences (--vppsim-url)")
            ddm.stats.licenceLookupFailures += 1
            return nil
        }
        ddm.stats.licenceLookups += 1
        let who =
            serial.map { "serialNumber=\(Self.queryValue($0))" }
            ?? "clientUserId=\(Self.queryValue(clientUserID ?? ""))"
        let query = "adamId=\(Self.queryValue(adamID))&\(who)"
        var request = HTTPClientRequest(url: base + "/sim/licences?" + query)
        request.method = .GET
        do {
            let response = try await client.execute(request, timeout: .seconds(10))
            let body = try await response.body.collect(upTo: 1 << 20)
            guard response.status.code == 200,
                let object = (try? JSONSerialization.jsonObject(with: Data(buffer: body))) as? [String: Any],
                let licences = object["licences"] as? [Any]
            else {
                ddm.stats.licenceLookupFailures += 1
                return nil
            }
            return !licences.isEmpty
        } catch {
            ddm.stats.licenceLookupFailures += 1
            logger.warning("licence lookup failed", metadata: ["error": "\(error)"])
            return nil
        }
    }

    static func queryValue(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~")))
            ?? text
    }

    /// The status report Apple's devices send: `StatusItems.app.managed.list`, changed items only.
    static func statusReport(_ apps: [DDMDeviceApp]) -> Data {
        let list = apps.map { app -> [String: Any] in
            var item: [String: Any] = [
                "identifier": app.bundleID, "declaration-identifier": app.declarationIdentifier,
            ]
            if app.removed {
                item["_removed"] = true
            } else {
                item["state"] = app.state
                item["name"] = app.bundleID
                if !app.reasons.isEmpty { item["reasons"] = app.reasons.map { ["code": $0] } }
                if app.state == "managed" { item["version"] = "1.0" }
            }
            return item
        }
        return jsonBody(["StatusItems": ["app": ["managed": ["list": list]]], "Errors": [Any]()])
    }

    /// Sends a status report, lost or late as the fault says.
    func report(enrollmentID: String, serial: String, _ apps: [DDMDeviceApp]) async {
        if ddm.faultApplies(to: serial, .lost) {
            ddm.stats.reportsLost += 1
            return
        }
        if ddm.faultApplies(to: serial, .late), ddm.faultDelayMilliseconds > 0 {
            let delay = ddm.faultDelayMilliseconds
            Task {
                try? await Task.sleep(for: .milliseconds(delay))
                await self.send(enrollmentID: enrollmentID, Self.statusReport(apps))
            }
            return
        }
        await send(enrollmentID: enrollmentID, Self.statusReport(apps))
    }

    func send(enrollmentID: String, _ report: Data) async {
        // The device's check-in reaches KMFDDM (NanoMDM hands DeclarativeManagement to it), which keeps the report.
        keepStatusReport(enrollmentID: enrollmentID, report)
        switch ddm.statusRoute {
        case .kmfddm:
            ddm.stats.reportsSent += 1
        case .webhook:
            guard let device = devices[enrollmentID] else { return }
            await post(
                Self.checkIn(
                    topic: "mdm.DeclarativeManagement",
                    device,
                    payload: [
                        "MessageType": "DeclarativeManagement", "Endpoint": "status", "UDID": device.udid,
                        "Data": report,
                    ]
                )
            )
            ddm.stats.reportsSent += 1
        case .post:
            guard let base = ddm.statusURL else {
                ddm.stats.reportsFailed += 1
                return
            }
            var request = HTTPClientRequest(url: base + "/v1/device-status/\(Self.queryValue(enrollmentID))")
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            if let key = ddm.statusAPIKey { request.headers.add(name: "Authorization", value: "Bearer \(key)") }
            request.body = .bytes(ByteBuffer(data: report))
            do {
                let response = try await client.execute(request, timeout: .seconds(15))
                _ = try? await response.body.collect(upTo: 1 << 16)
                if (200..<300).contains(response.status.code) {
                    ddm.stats.reportsSent += 1
                } else {
                    ddm.stats.reportsFailed += 1
                    logger.warning("status report refused", metadata: ["status": "\(response.status.code)"])
                }
            } catch {
                ddm.stats.reportsFailed += 1
                logger.warning("status report failed", metadata: ["error": "\(error)"])
            }
        }
    }
}
