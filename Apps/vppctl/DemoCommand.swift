import ArgumentParser
import Foundation
import Logging
import VPPAppleClient
import VPPAppleSimulator
import VPPComposition
import VPPDomain
import VPPUseCases

/// `vppctl demo`: the product end to end on the embedded SQLite default against an in-process simulator
/// of Apple and mdmsim (an MDM server with KMFDDM and devices), telling the story as it goes. Needs no setup;
/// leaves nothing behind unless `--keep`.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run a guided tour of vpp against a simulated Apple (no setup needed)."
    )

    @Flag(help: "Keep the demo database and print where it is.") var keep = false

    func run() async throws {
        var quiet = Logger(label: "demo")
        quiet.logLevel = .critical
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "vpp-demo-\(UUID().uuidString.prefix(8))"
        )
        defer { if !keep { try? FileManager.default.removeItem(at: folder) } }

        step("Starting a simulator of Apple's Apps and Books API on a local port")
        var settings = SimulatorSettings()
        settings.eventDelayMilliseconds = 50
        let simulator = AppleSimulator(settings: settings, logger: quiet)
        let running = try await SimulatorServer(simulator: simulator, logger: quiet).start()
        step("Starting mdmsim (NanoMDM and KMFDDM, with simulated devices) on a local port")
        let mdm = try await DemoMDM.start(appleRootURL: running.rootURL, logger: quiet)
        defer { mdm.task.cancel() }
        do {
            try await tour(simulator, running, mdm, folder: folder, logger: quiet)
        } catch {
            await running.stop()
            throw error
        }
        await running.stop()
        print(
            "\nDone. "
                + (keep ? "The demo database is in \(folder.path)." : "Nothing was left behind. Next: `vppctl --help`.")
        )
    }

    /// Seeds Apple's side, then shows vpp on the embedded database inside its runtime's scope.
    func tour(
        _ simulator: AppleSimulator,
        _ running: RunningSimulator,
        _ mdm: DemoMDM,
        folder: URL,
        logger quiet: Logger
    ) async throws {
        let main = await simulator.createLocation(
            name: "Main Campus",
            countryCode: "US",
            orgName: "Springfield Schools"
        )
        let annex = await simulator.createLocation(name: "Annex", countryCode: "US", orgName: "Springfield Schools")
        let lab = await simulator.createLocation(name: "Science Lab", countryCode: "US", orgName: "Springfield Schools")
        try await simulator.upsertAssets(
            [
                SimAsset(
                    adamId: "361285480",
                    totalCount: 5,
                    name: "Keynote",
                    bundleId: "com.apple.iWork.Keynote",
                    version: "14.2"
                ),
                SimAsset(
                    adamId: "361309726",
                    totalCount: 3,
                    name: "Pages",
                    bundleId: "com.apple.iWork.Pages",
                    version: "14.2"
                ),
            ],
            at: main
        )
        try await simulator.upsertAssets([SimAsset(adamId: "361285480", totalCount: 2, name: "Keynote")], at: annex)
        try await simulator.upsertAssets([SimAsset(adamId: "361304891", totalCount: 4, name: "Numbers")], at: lab)
        try await simulator.setMDMInfo(.appleConfigurator, at: lab)
        try await simulator.seedAssignments(
            adamId: "361304891",
            serialNumbers: ["F9FXLAB0001", "F9FXLAB0002"],
            at: lab
        )
        let mainFile = try await simulator.mintToken(for: main, expiresAt: Date().addingTimeInterval(300 * 86_400))
        let annexFile = try await simulator.mintToken(for: annex, expiresAt: Date().addingTimeInterval(12 * 86_400))
        let labFile = try await simulator.mintToken(for: lab, expiresAt: Date().addingTimeInterval(200 * 86_400))
        say("Apple (simulated) at \(running.appleBaseURL): locations Main Campus, Annex, Science Lab")

        step("Opening the embedded database (SQLite) with a fresh encryption key, mode 0600")
        var configuration = VPPConfiguration(environment: [:])
        configuration.databaseURL = "sqlite://\(folder.path)/vpp.sqlite"
        configuration.appleBaseURL = running.appleBaseURL
        try await VPPRuntime.withRunning(configuration, migrate: true, logger: quiet) { runtime in
            try await showProduct(runtime, mdm, mainFile: mainFile, annexFile: annexFile, labFile: labFile)
        }
    }

    /// The product's story, from uploading tokens to the audit trail.
    func showProduct(
        _ runtime: VPPRuntime,
        _ mdm: DemoMDM,
        mainFile: String,
        annexFile: String,
        labFile: String
    ) async throws {
        let mailer = ConsoleMailer()
        let ports = runtime.ports.replacing(
            apple: runtime.ports.apple,
            metadata: runtime.ports.metadata,
            mailer: mailer
        )
        var settings = runtime.settings
        settings.outboundPolicy = mdm.outboundPolicy
        // The demo reads the device's status back from KMFDDM every second, not every minute.
        settings.declarationStatusPollInterval = 1
        let useCases = UseCases(ports: ports, settings: settings)
        let tenant = try await useCases.tenantAdministration.createTenant(
            name: "Springfield Schools MDM",
            hostname: "mdm.springfield.example"
        )
        let admin = Caller(
            tenantID: tenant.id,
            admin: Admin(tenantID: tenant.id, name: "alex", role: .applicationManagementFullControl)
        )
        say("Tenant \"\(tenant.name)\"; admin alex has \"Application Management Full Control\"")

        step("Uploading two tokens that share Keynote; each is validated with Apple, claimed and synced")
        for (name, file) in [("Main Campus", mainFile), ("Annex", annexFile)] {
            let result = try await useCases.uploadToken(
                admin,
                file: Data(file.utf8),
                noticeRecipients: ["it@springfield.example"]
            )
            say(
                "\(name): \(result.status.code.replacingOccurrences(of: "_", with: " ")), "
                    + "\(result.sync?.assets ?? 0) app(s) synced"
            )
        }

        step("The repository: one entry per app, its licences pooled across tokens")
        for app in try await useCases.catalogue.apps(admin) {
            say("\(app.name ?? app.adamId) (\(app.adamId)): \(app.available) of \(app.total) available")
        }

        step("Assigning Keynote to 6 iPads by serial number (no Apple Account needed)")
        let serials = (1...6).map { try! SerialNumber(String(format: "F9FXIPAD%03d", $0)) }
        try await useCases.manageInventory.addDevices(
            admin,
            serials.map { Device(tenantID: tenant.id, serialNumber: $0, installedAdamIDs: ["361285480"]) }
        )
        let assign = useCases.assignLicences.polling(firstAfter: 0)
        let outcome = try await assign(admin, asset: AssetKey(adamID: "361285480"), to: serials.map { .device($0) })
        say(
            "Reserved 6 licences "
                + "(\(outcome.sentByToken.values.sorted(by: >).map(String.init).joined(separator: " + ")) from the "
                + "two tokens: the one expiring last grants first)"
        )
        try await Task.sleep(for: .milliseconds(200))
        _ = try await useCases.processAppleEvent.pollDue(tenant.id)
        let installs = try await ports.store.inTenant(tenant.id) { tx in try await tx.deviceCommands() }
        say("Apple confirmed; \(installs.count) InstallApplication commands queued for the MDM")
        do {
            _ = try await assign(
                admin,
                asset: AssetKey(adamID: "361285480"),
                to: [.device(try SerialNumber("F9FXIPAD099"))]
            )
        } catch { say("A 7th device that is not in the inventory is refused: \(error)") }

        step("Token status: Annex expires in 12 days")
        for view in try await useCases.listTokens(admin).map({ TokenView($0, now: Date()) }) {
            say(
                "\(view.location): \(view.status.replacingOccurrences(of: "_", with: " ")) (\(view.daysLeft) days) "
                    + "— \(view.nextStep)"
            )
        }
        _ = try await useCases.planNotices(tenant.id)
        _ = try await useCases.deliverNotices(tenant.id)

        step("A token held by Apple Configurator")
        let labResult = try await useCases.uploadToken(
            admin,
            file: Data(labFile.utf8),
            takeOver: true,
            dryRun: true
        )
        say("Science Lab is held by \(labResult.otherHolder.map { "\($0)" } ?? "?"); vpp grants nothing from it")
        say(
            "Take-over preview: confirming would revoke \(labResult.takeOverPreview?.count ?? 0) licence(s) Apple "
                + "Configurator assigned, then sync"
        )

        step("Removal plan for Annex (dry run)")
        let tokens = try await useCases.listTokens(admin)
        if let annexToken = tokens.first(where: { $0.token.location.name == "Annex" }) {
            printPlan(try await useCases.removeToken.plan(admin, tokenID: annexToken.token.id))
        }

        try await showDeclarations(useCases, mdm, tenant: tenant, admin: admin)

        step("Audit trail")
        for record in try await useCases.catalogue.auditLog(admin, limit: 8).reversed() {
            say("\(record.actor) \(record.action) \(record.target): \(record.outcome)")
        }
    }

    func step(_ text: String) { print("\n▶ \(text)") }
    func say(_ text: String) { print("  \(text)") }
}

/// The demo's mailer: shows the notice instead of sending it.
struct ConsoleMailer: Mailer {
    func send(to recipients: [String], subject: String, body: String) async throws {
        print("  ✉ to \(recipients.joined(separator: ", ")): \"\(subject)\"")
    }
}
