import Foundation
import Testing
import VPPAppleClient
import VPPAppleSimulator
import VPPDomain
import VPPUseCases

@Suite("Apple client ↔ simulator: associate, disassociate, revoke, events, users")
struct WriteTests {
    let app = AssetKey(adamID: "408709785")
    let book = AssetKey(adamID: "361309726")

    @Test("2,500 serials go out in 3 associate calls (1,000 each) and complete")
    func batchedAssociate() async throws {
        try await withBench(assets: [SimAsset(adamId: "408709785", totalCount: 5000)]) { bench in
            let tickets = try await bench.client.associate(
                bench.credentials,
                assets: [app],
                serialNumbers: serials(2500),
                clientUserIDs: []
            )
            #expect(tickets.map(\.serialNumbers.count) == [1000, 1000, 500])
            #expect(await bench.simulator.requestCount("assets/associate") == 3)
            for ticket in tickets { #expect(try await bench.waitForEvent(ticket.eventID).state == .complete) }
            #expect(await bench.simulator.snapshot(of: bench.locationUID)?.assignedByAsset["408709785/STDQ"] == 2500)
        }
    }

    @Test("30 assets for one device go out in 2 calls (25 assets each)")
    func batchedByAssets() async throws {
        let assets = (0..<30).map { SimAsset(adamId: "\(500 + $0)", totalCount: 1) }
        try await withBench(assets: assets) { bench in
            let keys = assets.map { AssetKey(adamID: $0.adamId) }
            let tickets = try await bench.client.associate(
                bench.credentials,
                assets: keys,
                serialNumbers: ["C02XK1JHJG5J"],
                clientUserIDs: []
            )
            #expect(tickets.map(\.assets.count) == [25, 5])
        }
    }

    @Test("running out of licences fails the event with 9709 naming exactly the devices left out")
    func notEnoughLicences() async throws {
        try await withBench(assets: [SimAsset(adamId: "408709785", totalCount: 5)]) { bench in
            let tickets = try await bench.client.associate(
                bench.credentials,
                assets: [app],
                serialNumbers: serials(8),
                clientUserIDs: []
            )
            let status = try await bench.waitForEvent(tickets[0].eventID)
            #expect(status.state == .failed && status.numRequested == 8 && status.numCompleted == 5)
            #expect(status.failures.count == 1 && status.failures[0].error == .notEnoughLicences)
            #expect(status.failures[0].serialNumbers == Array(serials(8).suffix(3)))
            #expect(status.failures[0].assets == [app])
        }
    }

    @Test("unregistered users fail with 9609; registered ones get their licence")
    func unknownUser() async throws {
        try await withBench { bench in
            let created = try await bench.client.createUsers(
                bench.credentials,
                [AppleUserRequest(clientUserID: "u-1", email: "ana@example.com")]
            )
            #expect(try await bench.waitForEvent(created[0].eventID).state == .complete)
            let tickets = try await bench.client.associate(
                bench.credentials,
                assets: [book],
                serialNumbers: [],
                clientUserIDs: ["u-1", "ghost"]
            )
            let status = try await bench.waitForEvent(tickets[0].eventID)
            #expect(status.state == .failed && status.failures.first?.error == .unknownUser)
            #expect(status.failures.first?.clientUserIDs == ["ghost"])
        }
    }

    @Test(
        "synchronous refusals are typed: not device-assignable 9707, not revocable 9706, duplicates 9705, over limits 9702"
    )
    func synchronousRefusals() async throws {
        let assets = [SimAsset(adamId: "408709785", totalCount: 50, revocable: false), Bench.defaultAssets[1]]
        try await withBench(assets: assets) { bench in
            await #expect(throws: AppleAPIError.notDeviceAssignable) {
                _ = try await bench.client.associate(
                    bench.credentials,
                    assets: [book],
                    serialNumbers: ["C02XK1JHJG5J"],
                    clientUserIDs: []
                )
            }
            await #expect(throws: AppleAPIError.notRevocable) {
                _ = try await bench.client.disassociate(
                    bench.credentials,
                    assets: [app],
                    serialNumbers: ["C02XK1JHJG5J"],
                    clientUserIDs: []
                )
            }
            do {
                _ = try await bench.client.associate(
                    bench.credentials,
                    assets: [app],
                    serialNumbers: ["A1234567", "A1234567"],
                    clientUserIDs: []
                )
                Issue.record("duplicates must be refused")
            } catch AppleAPIError.overLimits(let number, _) { #expect(number == 9705) }
            // The client has cached limits of 1,000; Apple lowers its limit without notice.
            _ = try await bench.client.serviceLimits()
            await bench.simulator.updateSettings { $0.limits["maxSerialNumbers"] = 10 }
            do {
                _ = try await bench.client.associate(
                    bench.credentials,
                    assets: [app],
                    serialNumbers: serials(11),
                    clientUserIDs: []
                )
                Issue.record("over the limit must be refused")
            } catch AppleAPIError.overLimits(let number, _) { #expect(number == 9702) }
        }
    }

    @Test("disassociate and revoke release licences; 250 revoked devices take 3 calls of at most 100")
    func revokeBatches() async throws {
        try await withBench(assets: [SimAsset(adamId: "408709785", totalCount: 1000)]) { bench in
            try await bench.simulator.seedAssignments(
                adamId: "408709785",
                serialNumbers: serials(260),
                at: bench.locationUID
            )
            let one = try await bench.client.disassociate(
                bench.credentials,
                assets: [app],
                serialNumbers: [serials(260)[259]],
                clientUserIDs: []
            )
            #expect(try await bench.waitForEvent(one[0].eventID).state == .complete)
            let tickets = try await bench.client.revoke(
                bench.credentials,
                serialNumbers: serials(250),
                clientUserIDs: []
            )
            #expect(tickets.map(\.serialNumbers.count) == [100, 100, 50])
            for ticket in tickets { #expect(try await bench.waitForEvent(ticket.eventID).state == .complete) }
            #expect(await bench.simulator.snapshot(of: bench.locationUID)?.assignmentCount == 9)
            let counts = try await bench.client.assets(bench.credentials, filter: AppleAssetFilter()).items[0].counts
            #expect(counts.assigned == 9 && counts.available == 991)
        }
    }

    @Test("an unknown eventId is Apple's 9708")
    func unknownEvent() async throws {
        try await withBench { bench in
            await #expect(throws: AppleAPIError.apple(errorNumber: 9708, message: "Event not found")) {
                _ = try await bench.client.eventStatus(bench.credentials, eventID: "nope")
            }
        }
    }

    @Test("users: create in batches of 100, list, update, retire; creating twice fails with 9716")
    func usersLifecycle() async throws {
        try await withBench(settings: { $0.pageSize = 40 }) { bench in
            let requests = (0..<150).map {
                AppleUserRequest(clientUserID: "user-\($0)", email: "user\($0)@example.com")
            }
            let tickets = try await bench.client.createUsers(bench.credentials, requests)
            #expect(tickets.map(\.clientUserIDs.count) == [100, 50])
            for ticket in tickets { #expect(try await bench.waitForEvent(ticket.eventID).state == .complete) }
            let listed = try await bench.client.users(bench.credentials, filter: AppleUserFilter())
            #expect(listed.items.count == 150 && listed.pagesFetched == 4)
            #expect(listed.items.allSatisfy { $0.status == "Registered" && $0.inviteCode != nil })
            let again = try await bench.client.createUsers(
                bench.credentials,
                [AppleUserRequest(clientUserID: "user-1")]
            )
            let failed = try await bench.waitForEvent(again[0].eventID)
            #expect(failed.state == .failed && failed.failures.first?.errorNumber == 9716)
            let update = try await bench.client.updateUsers(
                bench.credentials,
                [AppleUserRequest(clientUserID: "user-2", email: "new@example.com")]
            )
            _ = try await bench.waitForEvent(update[0].eventID)
            let retire = try await bench.client.retireUsers(bench.credentials, clientUserIDs: ["user-3"])
            _ = try await bench.waitForEvent(retire[0].eventID)
            let user2 = try await bench.client.users(bench.credentials, filter: AppleUserFilter(clientUserID: "user-2"))
                .items
            #expect(user2.first?.email == "new@example.com")
            let retired = try await bench.client.users(bench.credentials, filter: AppleUserFilter(retiredOnly: true))
                .items
            #expect(retired.map(\.clientUserID) == ["user-3"])
            let active = try await bench.client.users(bench.credentials, filter: AppleUserFilter(activeOnly: true))
                .items
            #expect(active.count == 149)
        }
    }

    @Test("metadata lookup: name, bundle id, version and icon for the location's apps")
    func metadata() async throws {
        try await withBench { bench in
            let lookup = LegacyContentMetadataLookup(apple: bench.client)
            let found = try await lookup.metadata(
                adamIDs: ["408709785", "000"],
                countryCode: "US",
                credentials: bench.credentials
            )
            #expect(found.count == 1)
            let keynote = try #require(found["408709785"])
            #expect(
                keynote.name == "Keynote" && keynote.bundleID == "com.apple.iwork.keynote" && keynote.version == "14.1"
            )
            #expect(keynote.iconURL?.absoluteString.hasSuffix("/512x512bb.png") == true)
        }
    }
}
