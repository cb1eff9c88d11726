import Foundation
import Testing
import VPPDomain
import VPPTestSupport
import VPPUseCases

/// Keyset paging of the licence listing on both databases: pages are disjoint, cover everything once in a
/// stable order, honour filters, and refuse a cursor they did not give.
@Suite("Licence listing: keyset pages and filters")
struct LicenceListingTests {
    @Test("25 licences in pages of 10: three pages, each licence once, filters applied", arguments: StoreKind.allCases)
    func pages(kind: StoreKind) async throws {
        try await withWorld(kind) { world in
            let sut = world.sut
            let tenant = world.tenant
            let token = makeToken(tenant.id)
            try await sut.store.inTenant(tenant.id) { tx in
                try await tx.insertToken(token, secret: SealedSecret(keyID: "k1", ciphertext: [1, 2, 3]))
                try await tx.upsertApps([keynote])
                try await tx.replaceCounts(tokenID: token.id, [keynote.key: counts(40)])
            }
            try await sut.store.inTenant(tenant.id) { tx in
                try await tx.insertAssignments(
                    (0..<25).map {
                        Assignment(
                            tenantID: tenant.id,
                            asset: keynote.key,
                            assignee: .device(serial($0)),
                            grantingToken: token.id,
                            state: $0 < 5 ? .failed(reason: "9709") : .active
                        )
                    }
                )
            }
            let caller = world.reader
            let catalogue = world.useCases.catalogue
            var seen: [String] = []
            var cursor: String?
            var pages = 0
            repeat {
                let page = try await catalogue.licencePage(caller, filter: LicenceFilter(), after: cursor, limit: 10)
                seen += page.items.map(\.id)
                cursor = page.next
                pages += 1
            } while cursor != nil && pages < 10
            #expect(pages == 3 && seen.count == 25 && Set(seen).count == 25)
            #expect(seen == seen.sorted(), "a stable order: by licence id")
            let failed = try await catalogue.licencePage(
                caller,
                filter: LicenceFilter(states: [.failed]),
                after: nil,
                limit: 10
            )
            #expect(failed.items.count == 5 && failed.next == nil)
            let one = try await catalogue.licencePage(
                caller,
                filter: LicenceFilter(assignee: .device(serial(7))),
                after: nil,
                limit: 10
            )
            #expect(one.items.map(\.serialNumber) == [serial(7).value])
            await #expect(throws: UseCaseError.self) {
                _ = try await catalogue.licencePage(caller, filter: LicenceFilter(), after: "not-a-cursor", limit: 10)
            }
            await #expect(throws: UseCaseError.self) {
                _ = try await catalogue.licencePage(caller, filter: LicenceFilter(), after: nil, limit: 0)
            }
        }
    }
}
