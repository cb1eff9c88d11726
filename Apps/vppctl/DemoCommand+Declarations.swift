import Foundation
import Logging
import VPPComposition
import VPPDomain
import VPPMDMSimulator
import VPPUseCases

/// The demo's MDM side: mdmsim in process, as NanoMDM with KMFDDM beside it (one server, one API key), whose
/// devices evaluate declarations against the simulated Apple's licences and keep their status reports in KMFDDM.
struct DemoMDM: Sendable {
    let simulator: MDMSimulator
    let url: String
    let apiKey: String
    let task: Task<Void, any Error>

    static func start(appleRootURL: String, logger: Logger) async throws -> DemoMDM {
        let apiKey = "demo-" + UUID().uuidString
        let simulator = MDMSimulator(apiKey: apiKey, vppsimURL: appleRootURL, logger: logger)
        // The devices' DeclarativeManagement check-ins go to KMFDDM (as behind NanoMDM): vpp reads them back.
        await simulator.configureDDM(
            vppsimURL: nil,
            statusURL: nil,
            statusAPIKey: nil,
            statusRoute: .kmfddm,
            evaluationDelayMilliseconds: 100
        )
        let (port, task) = try await MDMSimulatorServer(simulator: simulator, logger: logger).start()
        return DemoMDM(simulator: simulator, url: "http://127.0.0.1:\(port)", apiKey: apiKey, task: task)
    }

    /// vpp may call the local mdmsim, as an operator allows an internal MDM server (`VPP_OUTBOUND_ALLOW`).
    var outboundPolicy: OutboundPolicy { OutboundPolicy(allowList: url.replacingOccurrences(of: "http://", with: "")) }
}

extension DemoCommand {
    /// Pages installed on one iPad by declaration: the licence at Apple first, then the device's enrollment in
    /// the app's KMFDDM set, the device's own status read back from KMFDDM, and no InstallApplication.
    func showDeclarations(_ useCases: UseCases, _ mdm: DemoMDM, tenant: Tenant, admin: Caller) async throws {
        step("Pages by declaration (Declarative Device Management) through mdmsim: NanoMDM with KMFDDM beside it")
        let pages = AssetKey(adamID: "361309726")
        let enrolled = await mdm.simulator.enroll(count: 1, serialPrefix: "F9FXDDM", productName: "iPad13,4")
        guard let device = enrolled.first else { throw CommandFailure("mdmsim enrolled no device") }
        let serial = try SerialNumber(device.serialNumber)
        try await useCases.manageInventory.addDevices(admin, [Device(tenantID: tenant.id, serialNumber: serial)])
        // What NanoMDM's webhook (Authenticate, TokenUpdate) would tell vpp about the enrollment.
        try await useCases.ports.store.inTenant(tenant.id) { tx in
            try await tx.saveEnrollment(
                serial,
                MDMEnrollment(state: .enrolled, enrollmentID: device.udid, platform: .iOS)
            )
        }
        say("mdmsim (\(mdm.url)) enrolled iPad \(serial.value); vpp knows its enrollment \(device.udid.prefix(12))…")
        let system = Caller.system(tenant.id)
        try await useCases.configureAppDelivery.setPublisher(system, .kmfddm, url: mdm.url, apiKey: mdm.apiKey)
        try await useCases.configureAppDelivery.set(system, .declarations)
        say("The tenant delivers apps by declaration; its DDM server is mdmsim's KMFDDM")

        let assign = useCases.assignLicences.polling(firstAfter: 0)
        _ = try await assign(admin, asset: pages, to: [.device(serial)])
        try await Task.sleep(for: .milliseconds(200))
        _ = try await useCases.processAppleEvent.pollDue(tenant.id)
        let licence = try await useCases.ports.store.inTenant(tenant.id) { tx in
            try await tx.assignments(AssignmentQuery(asset: pages)).first { $0.assignee == .device(serial) }
        }
        let before = await mdm.simulator.recordedSetChanges().count
        say(
            "Apple confirmed the iPad's Pages licence (\(licence?.state.code ?? "none")) while its enrollment was in "
                + "no set (\(before) set changes at KMFDDM)"
        )
        let changes = try await useCases.deliverDeclarations?(tenant.id, owner: "demo")
        let joins = await mdm.simulator.recordedSetChanges().filter { $0.kind == .join && $0.changed }
        let declaration = try ManagedAppDeclaration(asset: pages, assignment: .device).identifier
        say(
            "Only then vpp published \(declaration) to KMFDDM and put the iPad's enrollment in its set "
                + "(\(changes?.joined ?? 0) join, \(joins.count) set change at KMFDDM)"
        )

        // The device evaluates the declaration, finds its licence at Apple, installs; vpp reads its status back.
        var verified = false
        for _ in 0..<300 where !verified {
            try await Task.sleep(for: .milliseconds(100))
            _ = try await useCases.pollDeclarationStatus?(tenant.id)
            let rows = try await useCases.configureAppDelivery.setChanges(admin, serial: serial)
            verified = rows.contains { $0.change == "join" && $0.installState == "verified" }
        }
        let app = await mdm.simulator.declaredApps()[serial.value]?.first { $0.declarationIdentifier == declaration }
        let installed = await mdm.simulator.allDevices().first { $0.serialNumber == serial.value }?.installed ?? []
        let commands = try await useCases.ports.store.inTenant(tenant.id) { tx in try await tx.deviceCommands() }
            .filter { $0.serialNumber == serial.value }
        say(
            "iPad \(serial.value) evaluated the declaration: \(app?.state ?? "not yet") — "
                + "\(installed.isEmpty ? "nothing installed" : "Pages installed by declaration") "
                + "(\(commands.count) InstallApplication commands sent)"
        )
        say(
            verified
                ? "vpp read the device's status back from KMFDDM (GET /v1/status-report): the install is verified"
                : "vpp has not read a managed status back from KMFDDM yet"
        )
    }
}
