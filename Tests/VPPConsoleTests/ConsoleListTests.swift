import Foundation
import Testing
import VPPDomain
import VPPTestSupport
import VPPUseCases

/// The console's lists are sorted, searched and paged by the database: the same answers on both stores.
@Suite("Console lists")
struct ConsoleListTests {
    let keynote = AssetKey(adamID: "408709785")
    let pages = AssetKey(adamID: "361309726")

    @Test(
        "devices, users and an app's licences page, sort (also by licences held) and search in SQL",
        arguments: StoreKind.allCases
    )
    func lists(kind: StoreKind) async throws {
        try await withWorld(kind) { world in
            let (file, _) = try await world.location("Main", assets: [keynoteSim, pagesSim])
            let token = try #require(try await UploadToken(services: world.services)(world.admin, file: file).token)
            let serials = try await world.addDevices(60)
            var assign = AssignLicences(services: world.services)
            assign.firstPollDelay = 0
            _ = try await assign(world.admin, asset: keynote, to: serials.prefix(5).map { .device($0) })
            _ = try await assign(world.admin, asset: pages, to: [.device(serials[2])])
            try await world.settleEvents()
            let lists = ConsoleLists(services: world.services)

            // Devices: the first page of 50 by serial, the total, licences named with their state.
            let first = try await lists.devices(world.reader, ListWindow(column: .serial))
            #expect(first.total == 60 && first.rows.count == 50 && first.rows[0].id == serials[0].value)
            let second = try await lists.devices(world.reader, ListWindow(column: .serial, offset: 50))
            #expect(second.rows.count == 10 && second.rows.last?.id == serials[59].value)
            #expect(
                first.rows[2].licencesHeld == 2 && first.rows[2].licences == ["Keynote (active)", "Pages (active)"]
            )
            // Sorting by licences held puts the device with two first, then those with one.
            let busiest = try await lists.devices(
                world.reader,
                ListWindow(column: .licences, descending: true, limit: 6)
            )
            #expect(busiest.rows.map(\.licencesHeld) == [2, 1, 1, 1, 1, 0] && busiest.rows[0].id == serials[2].value)
            // Search: case-insensitive, and LIKE's wildcards are plain text.
            let found = try await lists.devices(
                world.reader,
                ListWindow(column: .serial, search: serials[7].value.lowercased())
            )
            #expect(found.total == 1 && found.rows[0].id == serials[7].value)
            for wildcard in ["%", "_", "\\"] {
                #expect(try await lists.devices(world.reader, ListWindow(column: .serial, search: wildcard)).total == 0)
            }

            // An app's licences: granting token's location, state, since.
            let licences = try await lists.licences(
                world.reader,
                keynote,
                ListWindow(column: .assignee, descending: true)
            )
            #expect(licences.total == 5 && licences.rows.first?.serialNumber == serials[4].value)
            #expect(
                licences.rows.allSatisfy {
                    $0.tokenLocation == token.location.name && $0.state == "active" && $0.since != nil
                }
            )
            // The picker offers only devices without the app.
            let picks = try await lists.devicesWithout(world.reader, keynote, limit: 100, scan: 1000).map(\.serial)
            #expect(picks.count == 55 && !picks.contains(serials[0].value) && picks.contains(serials[5].value))

            // Pools and totals read for one app, or one token, agree with the licence report.
            let app = try #require(try await lists.app(world.reader, keynote))
            #expect(
                app.app.total == 5 && app.app.assigned == 5 && app.perToken.map(\.location) == [token.location.name]
            )
            #expect(try await lists.tokenTotals(world.reader)[token.id]?.assigned == 6)
            let onToken = try await lists.tokenApps(world.reader, token.id).sorted { $0.name < $1.name }
            #expect(onToken.map(\.name) == ["Keynote", "Pages"] && onToken.map(\.assigned) == [5, 1])
            #expect(try await lists.app(world.reader, AssetKey(adamID: "1")) == nil)

            // Users: empty list, still a valid query on both databases.
            #expect(try await lists.users(world.reader, ListWindow(column: .licences, descending: true)).total == 0)
        }
    }
}
