import Foundation
import Testing
import VPPDomain

/// The reconciler's plan as a pure function, checked on random inputs against the rules it owes admins.
@Suite("Reconcile plan: desired set, ledger and pool → add, wait, remove, keep")
struct ReconcilePlanTests {
    static let now = Date(timeIntervalSince1970: 1_900_000_000)

    static func scope(_ name: String, priority: Int = 0, grace: Int = 0) -> AppScope {
        try! AppScope(
            name: ScopeName(name),
            asset: AssetKey(adamID: "361309726"),
            serialNumbers: [device(0)],
            priority: priority,
            removalGraceSeconds: grace
        )
    }

    static func device(_ i: Int) -> SerialNumber { try! SerialNumber(String(format: "SER%07d", i)) }

    @Test("12 wanted, 8 licences: the first 8 by priority then arrival are added, 4 wait in order")
    func waitlistOrder() {
        let low = Self.scope("low"), high = Self.scope("high", priority: 5)
        var named: [(AppScope, [Assignee])] = [(low, (0..<8).map { .device(Self.device($0)) })]
        named.append((high, (8..<12).map { .device(Self.device($0)) }))
        let desired = DesiredMember.union(named)
        let plan = ReconcilePlan.make(desired: desired, tracked: [:], holdings: [:], available: 8, now: Self.now)
        #expect(plan.add.count == 8 && plan.waiting.count == 4)
        #expect(Array(plan.add.prefix(4)) == (8..<12).map { .device(Self.device($0)) }, "priority 5 first")
        #expect(plan.track.count == 12 && plan.remove.isEmpty)
    }

    @Test("a device in two scopes holds one licence, on the terms of the stronger scope")
    func union() {
        let a = Self.scope("a", priority: 1), b = Self.scope("b", priority: 3, grace: 60)
        let member = Assignee.device(Self.device(1))
        let desired = DesiredMember.union([(a, [member]), (b, [member])])
        #expect(desired.count == 1 && desired[member]?.scope.value == "b" && desired[member]?.removalGraceSeconds == 60)
    }

    @Test("random inputs: never more added than available, the wanted are never removed, grace is kept")
    func randomInvariants() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<500 {
            let members = (0..<Int.random(in: 0...30, using: &generator)).map { Assignee.device(Self.device($0)) }
            let scopes = [Self.scope("a", priority: 1, grace: 100), Self.scope("b", priority: 2, grace: 0)]
            var named: [(AppScope, [Assignee])] = []
            for scope in scopes { named.append((scope, members.filter { _ in Bool.random(using: &generator) })) }
            let desired = DesiredMember.union(named)
            var tracked: [Assignee: TrackedMember] = [:]
            var holdings: [Assignee: Holding] = [:]
            for member in members {
                if Bool.random(using: &generator) {
                    tracked[member] = TrackedMember(
                        assignee: member,
                        scope: scopes[0].name,
                        priority: 1,
                        enteredAt: Self.now.addingTimeInterval(-Double.random(in: 0...1000, using: &generator)),
                        leftAt: Bool.random(using: &generator)
                            ? Self.now.addingTimeInterval(-Double.random(in: 0...200, using: &generator)) : nil,
                        grantedByScope: Bool.random(using: &generator),
                        removalGraceSeconds: 100,
                        uninstallOnRemoval: true,
                        mode: .install
                    )
                }
                switch Int.random(in: 0..<4, using: &generator) {
                case 0: holdings[member] = .licensed
                case 1: holdings[member] = .leaving
                default: break
                }
            }
            let available = Int.random(in: 0...10, using: &generator)
            let plan = ReconcilePlan.make(
                desired: desired,
                tracked: tracked,
                holdings: holdings,
                available: available,
                now: Self.now
            )
            #expect(plan.add.count <= available)
            #expect(plan.add.allSatisfy { desired[$0] != nil && holdings[$0] == nil })
            #expect(plan.remove.allSatisfy { desired[$0] == nil && holdings[$0] == .licensed })
            #expect(plan.remove.allSatisfy { tracked[$0]?.grantedByScope == true })
            #expect(
                plan.remove.allSatisfy { tracked[$0]?.removalDueAt.map { $0 <= Self.now } ?? true },
                "nobody loses a licence inside the grace period"
            )
            let unheldWanted = desired.keys.filter { holdings[$0] == nil }
            #expect(plan.add.count + plan.waiting.count == unheldWanted.count)
            #expect(plan.add.count == min(available, unheldWanted.count))
            // Waitlist order: priority, then arrival.
            let order = (plan.add + plan.waiting).map { desired[$0]!.priority }
            #expect(order == order.sorted(by: >))
        }
    }
}
