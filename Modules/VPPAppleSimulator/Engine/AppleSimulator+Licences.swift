import Foundation

/// One licence made or taken back at the simulator, as `GET /sim/licence-log` lists it.
struct SimLicenceChange: Sendable {
    enum Kind: String, Sendable { case associated, disassociated }

    let at: Date
    let kind: Kind
    let asset: SimAssetKey
    let serialNumber: String?
    let clientUserId: String?
}

extension SimLocation {
    /// Kept to the last 200,000 changes: benchmarks seed a million assignments, tests read a few hundred.
    static let licenceLogLimit = 200_000

    mutating func logLicence(_ kind: SimLicenceChange.Kind, _ asset: SimAssetKey, serial: String?, user: String?) {
        licenceLog.append(
            SimLicenceChange(at: Date(), kind: kind, asset: asset, serialNumber: serial, clientUserId: user)
        )
        if licenceLog.count > Self.licenceLogLimit + Self.licenceLogLimit / 4 {
            licenceLog.removeFirst(licenceLog.count - Self.licenceLogLimit)
        }
    }
}

/// The admin API's licence surface, for stand-ins of devices and MDM servers (mdmsim asks whether a licence
/// exists before a simulated device installs an app by declaration) and for tests that order events.
extension AppleSimulator {
    /// Licences across every location matching `adamId` (required) and `serialNumber` or `clientUserId`
    /// (`GET /sim/licences?adamId=…&serialNumber=…`); looked up in the assignment index, never by a scan.
    func licences(_ query: [String: String]) -> [[String: Any]] {
        guard let adamId = query["adamId"] else { return [] }
        let serial = query["serialNumber"]
        let user = query["clientUserId"]
        guard serial != nil || user != nil else { return [] }
        var found: [[String: Any]] = []
        for uid in locationOrder {
            guard let location = locations[uid] else { continue }
            for key in location.assetOrder where key.adamId == adamId {
                if let pricing = query["pricingParam"], pricing != key.pricingParam { continue }
                let indexKey = SimLocation.assignmentKey(key, serial: serial, user: serial == nil ? user : nil)
                guard location.assignmentIndex[indexKey] != nil else { continue }
                var item: [String: Any] = ["locationUId": uid, "adamId": adamId, "pricingParam": key.pricingParam]
                item["serialNumber"] = serial
                if serial == nil { item["clientUserId"] = user }
                found.append(item)
            }
        }
        return found
    }

    /// Every logged licence change after `since` (seconds since 1970), oldest first, across locations.
    func licenceLog(since: Double?) -> [[String: Any]] {
        let after = since.map { Date(timeIntervalSince1970: $0) } ?? .distantPast
        return locationOrder.compactMap { locations[$0] }.flatMap { location in
            location.licenceLog.filter { $0.at > after }.map { change -> [String: Any] in
                var item: [String: Any] = [
                    "at": change.at.timeIntervalSince1970, "kind": change.kind.rawValue,
                    "locationUId": location.uId, "adamId": change.asset.adamId,
                    "pricingParam": change.asset.pricingParam,
                ]
                item["serialNumber"] = change.serialNumber
                item["clientUserId"] = change.clientUserId
                return item
            }
        }.sorted { ($0["at"] as? Double ?? 0) < ($1["at"] as? Double ?? 0) }
    }
}
