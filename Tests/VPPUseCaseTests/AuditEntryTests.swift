import Foundation
import Testing
import VPPDomain
import VPPUseCases

/// Audit entries are typed where they are written and rendered once into the stored row's text: the text the
/// API filters by (`?action=`) and logs already hold must not change under them.
@Suite("Audit entries")
struct AuditEntryTests {
    @Test("every action is a distinct dotted name, as the stored log and the API's filter know them")
    func actionNames() {
        let names = AuditEntry.Action.allCases.map(\.rawValue)
        #expect(Set(names).count == names.count)
        for name in names {
            #expect(name.wholeMatch(of: /[a-z]+\.[a-z-]+/) != nil, "\(name)")
        }
    }

    @Test("an entry renders its action, subject and outcome into the row's text")
    func rendering() throws {
        let at = Date(timeIntervalSince1970: 1_795_000_000)
        let serial = try SerialNumber("C02RENDER001")
        let reclaim = AuditRecord(
            at: at,
            actor: "ana",
            entry: AuditEntry(.mdmReclaim, .device(serial), .failed, "unenrolled; 1 licence(s)")
        )
        #expect(
            reclaim.actor == "ana" && reclaim.action == "mdm.reclaim" && reclaim.target == "device C02RENDER001"
                && reclaim.outcome == "failed" && reclaim.detail == "unenrolled; 1 licence(s)" && reclaim.at == at
        )
        let added = AuditRecord(at: at, actor: "ana", entry: AuditEntry(.deviceAdd, .devices(count: 3)))
        #expect(added.action == "device.add" && added.target == "3 device(s)" && added.outcome == "ok")
        let key = AssetKey(adamID: "408709785")
        let assigned = AuditRecord(at: at, actor: "ana", entry: AuditEntry(.licenceAssign, .app(key), .reserved))
        #expect(assigned.target == "\(key)" && assigned.outcome == "reserved")
        let polled = AuditEntry(.appleEvent(kind: "disassociate"), .appleEvent(id: "e-1"), .init(.complete))
        #expect(polled.action.rawValue == "event.disassociate" && polled.outcome.rawValue == "complete")
        #expect(AuditEntry.Action.appleEvent(kind: "associate") == .eventAssociate)
        #expect(AuditEntry.Outcome.inUseElsewhere.rawValue == "in-use-elsewhere")
        #expect(AuditEntry.Subject.tokenFile.text == "(file)" && AuditEntry.Subject.mdmWebhook.text == "webhook")
    }
}
