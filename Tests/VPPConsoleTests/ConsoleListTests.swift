import Foundation
import Testing
import VPPDomain
import VPPTestSupport
import VPPUseCases

/// The console's lists page through the API's keyset reads (``Catalogue``): the same answers on both stores.
@Suite("Console lists")
struct ConsoleListTests {
    let keynote = AssetKey(adamID: "408709785")
    let pages = AssetKey(adamID: "361309726")

    @Test(
        "devices, users and an app's licences page by cursor, search in SQL and name the licences each holds",
        arguments: StoreKind.allCases
    )
    func lists(kind: StoreKind) async throws {
        try await withWorld(kind) { world in
            let (file, _) = try await world.location("Main", assets: [keynoteSim, pagesSim])
            let token = try #require(try await world.useCases.uploadToken(world.admin, file: file).token)
            let serials = try await world.addDevices(60)
            let assign = world.useCases.assignLicences.polling(firstAfter: 0)
            _ = try await assign(world.admin, asset: keynote, to: serials.prefix(5).map { .device($0) })
            _ = try await assign(world.admin, asset: pages, to: [.device(serials[2])])
            try await world.settleEvents()
            let catalogue = world.useCases.catalogue

            // Devices: the first page of 50 by serial, then the rest after its cursor.
            let first = try await catalogue.devicePage(world.reader, filter: DeviceFilter(), after: nil, limit: 50)
            #expect(first.items.count == 50 && first.items[0].serialNumber == serials[0].value && first.next != nil)
            let second = try await catalogue.devicePage(
                world.reader,
                filter: DeviceFilter(),
                after: first.next,
                limit: 50
            )
            #expect(second.items.count == 10 && second.items.last?.serialNumber == serials[59].value)
            #expect(second.next == nil)
            // The licences each device of a page holds, named with their state, in one read.
            let held = try await catalogue.heldLicences(
                world.reader,
                first.items.map { .device(try SerialNumber($0.serialNumber)) }
            )
            #expect(
                held[.device(serials[2])]
                    == [HeldLicence(app: "Keynote", state: .active), HeldLicence(app: "Pages", state: .active)]
            )
            #expect(held[.device(serials[5])] == nil && held.count == 5)
            // Search: case-insensitive, inside the serial, and LIKE's wildcards are plain text.
            let found = try await catalogue.devicePage(
                world.reader,
                filter: DeviceFilter(search: String(serials[7].value.lowercased().dropFirst(2))),
                after: nil,
                limit: 50
            )
            #expect(found.items.map(\.serialNumber) == [serials[7].value])
            for wildcard in ["%", "_", "\\"] {
                let none = try await catalogue.devicePage(
                    world.reader,
                    filter: DeviceFilter(search: wildcard),
                    after: nil,
                    limit: 50
                )
                #expect(none.items.isEmpty)
            }

            // An app's licences: the API's licence page, its granting token and state.
            let licences = try await catalogue.licencePage(
                world.reader,
                filter: LicenceFilter(asset: keynote),
                after: nil,
                limit: 50
            )
            #expect(licences.items.count == 5 && licences.next == nil)
            #expect(licences.items.allSatisfy { $0.tokenId == token.id.description && $0.state == "active" })
            // When each last changed (the console's "Since"), as the ledger recorded it.
            #expect(licences.items.allSatisfy { $0.changedAt.flatMap(ISO8601Timestamp.parse) != nil })
            // The picker offers only devices without the app.
            let picks = try await catalogue.devicesWithout(world.reader, keynote, limit: 100, scan: 1000)
                .map(\.serialNumber)
            #expect(picks.count == 55 && !picks.contains(serials[0].value) && picks.contains(serials[5].value))

            // Pools and totals read for one app, or one token, agree with the licence report.
            let lists = world.useCases.consoleLists
            let app = try #require(try await lists.app(world.reader, keynote))
            #expect(
                app.app.total == 5 && app.app.assigned == 5 && app.perToken.map(\.location) == [token.location.name]
            )
            #expect(try await lists.tokenTotals(world.reader)[token.id]?.assigned == 6)
            let onToken = try await lists.tokenApps(world.reader, token.id).sorted { $0.name < $1.name }
            #expect(onToken.map(\.name) == ["Keynote", "Pages"] && onToken.map(\.assigned) == [5, 1])
            #expect(try await lists.app(world.reader, AssetKey(adamID: "1")) == nil)

            // Users: pages by id after a cursor, searched by id or e-mail.
            #expect(try await catalogue.userPage(world.reader, search: nil, after: nil, limit: 50).items.isEmpty)
            let users = try (0..<7).map {
                try ManagedUser(
                    tenantID: world.tenant.id,
                    clientUserID: try ClientUserID("user-\($0)"),
                    email: "person\($0)@example.com"
                )
            }
            try await world.useCases.manageInventory.addUsers(world.admin, users)
            let firstUsers = try await catalogue.userPage(world.reader, search: nil, after: nil, limit: 4)
            #expect(firstUsers.items.map(\.clientUserId) == ["user-0", "user-1", "user-2", "user-3"])
            #expect(firstUsers.next != nil)
            let restUsers = try await catalogue.userPage(
                world.reader,
                search: nil,
                after: firstUsers.next,
                limit: 4
            )
            #expect(restUsers.items.map(\.clientUserId) == ["user-4", "user-5", "user-6"] && restUsers.next == nil)
            let byEmail = try await catalogue.userPage(world.reader, search: "PERSON5@", after: nil, limit: 4)
            #expect(byEmail.items.map(\.clientUserId) == ["user-5"])
            // A cursor from another listing is refused, not misread.
            await #expect(throws: UseCaseError.self) {
                try await catalogue.userPage(world.reader, search: nil, after: first.next, limit: 4)
            }
        }
    }

    /// Every item of a listing in one order, page by page through its cursors.
    static func walk<Item: Sendable>(
        _ read: (String?) async throws -> ListingPage<Item>
    ) async throws -> [Item] {
        var items: [Item] = []
        var after: String?
        repeat {
            let page = try await read(after)
            items += page.items
            after = page.next
        } while after != nil
        return items
    }

    @Test(
        """
        devices and an app's licences page in every order by that order's keyset (no row repeated or skipped), \
        the counts are the filter's, and a cursor of one order is refused in another
        """,
        arguments: StoreKind.allCases
    )
    func sortedPagesAndTotals(kind: StoreKind) async throws {
        try await withWorld(kind) { world in
            let (file, _) = try await world.location("Main", assets: [keynoteSim])
            _ = try #require(try await world.useCases.uploadToken(world.admin, file: file).token)
            let serials = try await world.addDevices(23)
            // Names that repeat (the serial breaks ties) and some devices without one.
            try await world.useCases.manageInventory.addDevices(
                world.admin,
                serials.enumerated().map { index, serial in
                    Device(
                        tenantID: world.tenant.id,
                        serialNumber: serial,
                        name: index % 4 == 0 ? nil : "Cart \(index % 3)"
                    )
                }
            )
            let catalogue = world.useCases.catalogue
            let all = try await catalogue.devicePage(world.reader, filter: DeviceFilter(), after: nil, limit: 1000)
                .items
            #expect(all.count == 23)
            for parameter in ListingSort<DeviceSortColumn>.parameters {
                let sort = try #require(ListingSort<DeviceSortColumn>(parameter: parameter))
                let walked = try await Self.walk { after in
                    try await catalogue.devicePage(
                        world.reader,
                        filter: DeviceFilter(),
                        sort: sort,
                        after: after,
                        limit: 5
                    )
                }
                func value(_ device: DeviceView) -> String {
                    switch sort.column {
                    case .serial: device.serialNumber
                    case .name: device.name ?? ""
                    case .enrollment: device.enrollment
                    }
                }
                // Ties broken by serial, in the same direction; names compared as the database does, so only the
                // grouping and the serials inside each group are checked for names.
                let serialsInOrder = walked.map(\.serialNumber)
                #expect(
                    Set(serialsInOrder).count == 23 && serialsInOrder.count == 23,
                    "\(parameter): \(serialsInOrder)"
                )
                var groups: [String: [String]] = [:]
                for device in walked { groups[value(device), default: []].append(device.serialNumber) }
                for (_, group) in groups {
                    #expect(group == (sort.descending ? group.sorted(by: >) : group.sorted()), "\(parameter)")
                }
                let changes = zip(walked, walked.dropFirst()).filter { value($0) != value($1) }.count
                #expect(changes == groups.count - 1, "\(parameter): each value's rows together")
                if sort.column == .serial {
                    let expected = all.map(\.serialNumber)
                    #expect(serialsInOrder == (sort.descending ? expected.reversed() : expected))
                }
            }
            #expect(try await catalogue.deviceCount(world.reader, filter: DeviceFilter()) == 23)
            #expect(try await catalogue.deviceCount(world.reader, filter: DeviceFilter(search: "cart 1")) == 6)
            let byName = try await catalogue.devicePage(
                world.reader,
                filter: DeviceFilter(),
                sort: ListingSort(.name),
                after: nil,
                limit: 5
            )
            await #expect(throws: UseCaseError.self, "a name-order cursor in serial order") {
                try await catalogue.devicePage(world.reader, filter: DeviceFilter(), after: byName.next, limit: 5)
            }
            await #expect(throws: UseCaseError.self, "a name-order cursor in descending name order") {
                try await catalogue.devicePage(
                    world.reader,
                    filter: DeviceFilter(),
                    sort: ListingSort(.name, descending: true),
                    after: byName.next,
                    limit: 5
                )
            }

            // An app's licences (the location has 5): 5 devices, 2 of them revoked later (another state, another time).
            let assign = world.useCases.assignLicences.polling(firstAfter: 0)
            _ = try await assign(world.admin, asset: keynote, to: serials.prefix(5).map { .device($0) })
            try await world.settleEvents()
            world.clock.advance(days: 1)
            _ = try await world.useCases.revokeLicences(
                world.admin,
                asset: keynote,
                from: serials.prefix(2).map { .device($0) }
            )
            let filter = LicenceFilter(asset: keynote)
            #expect(try await catalogue.licenceCount(world.reader, filter: filter) == 5)
            #expect(try await catalogue.licenceCount(world.reader, filter: LicenceFilter(asset: pages)) == 0)
            for parameter in ListingSort<LicenceSortColumn>.parameters {
                let sort = try #require(ListingSort<LicenceSortColumn>(parameter: parameter))
                let walked = try await Self.walk { after in
                    try await catalogue.licencePage(world.reader, filter: filter, sort: sort, after: after, limit: 2)
                }
                #expect(Set(walked.map(\.id)).count == 5 && walked.count == 5, "\(parameter)")
                let keys: [String] =
                    switch sort.column {
                    case .id: walked.map(\.id)
                    case .assignee: walked.map { $0.serialNumber ?? "" }
                    case .app: walked.map(\.adamId)
                    case .state: walked.map(\.state)
                    case .since: walked.map { $0.changedAt ?? "" }
                    }
                #expect(keys == (sort.descending ? keys.sorted(by: >) : keys.sorted()), "\(parameter): \(keys)")
            }
            let byState = try await catalogue.licencePage(
                world.reader,
                filter: filter,
                sort: ListingSort(.state),
                after: nil,
                limit: 2
            )
            #expect(Set(byState.items.map(\.state)).count == 1)
            await #expect(throws: UseCaseError.self, "a state-order cursor in the standard order") {
                try await catalogue.licencePage(world.reader, filter: filter, after: byState.next, limit: 2)
            }
        }
    }
}
