import Foundation
import Testing
import VPPTestSupport

/// `vppctl demo` as a user runs it: a real process, no setup, the embedded database, Apple and mdmsim in process.
@Suite("End to end: vppctl demo")
struct DemoTests {
    @Test("the walk shows Pages installed on an iPad by declaration through mdmsim, verified from KMFDDM's status")
    func demoInstallsByDeclaration() throws {
        // No outbound allow-list: the demo allows its own mdmsim, as an operator would.
        let output = try run("vppctl", ["demo"], environment: ["VPP_OUTBOUND_ALLOW": ""])
        let lines = output.split(separator: "\n").map(String.init)
        let device = try #require(lines.first { $0.contains("evaluated the declaration") }, "\(output)")
        #expect(device.contains(": managed — Pages installed by declaration"), "\(device)")
        #expect(device.contains("(0 InstallApplication commands sent)"), "\(device)")
        #expect(
            lines.contains { $0.contains("Pages licence (active) while its enrollment was in no set (0 set changes") },
            "the licence first: \(output)"
        )
        #expect(
            lines.contains { $0.contains("put the iPad's enrollment in its set (1 join, 1 set change at KMFDDM)") },
            "\(output)"
        )
        #expect(
            lines.contains { $0.contains("read the device's status back from KMFDDM") && $0.contains("verified") },
            "\(output)"
        )
        #expect(lines.last { $0.hasPrefix("Done.") } != nil, "the walk ran to its end: \(output.suffix(500))")
    }

    @Test("the removal plan's empty lines end without a dangling colon")
    func removalPlanReadsCleanly() throws {
        let output = try run("vppctl", ["demo"], environment: ["VPP_OUTBOUND_ALLOW": ""])
        let plan = output.split(separator: "\n").map(String.init)
            .drop { !$0.hasPrefix("Removing ") }
            .dropFirst()  // "Removing Annex would:"
            .prefix(5)
        #expect(plan.count == 5, "\(output)")
        #expect(plan.contains("  re-license 0 device(s)/user(s) from another token"), "\(plan)")
        #expect(plan.allSatisfy { !$0.hasSuffix(": ") && !$0.hasSuffix(":") }, "\(plan)")
    }
}
