import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import Testing
import VPPDomain
import VPPTestSupport
import VPPUseCases

@testable import VPPHTTPAPI

/// Keyset pages of `GET /v1/devices` and `GET /v1/audit`, followed through their `Link: rel="next"` headers.
@Suite("Paged listings: devices and the audit log")
struct ListingTests {
    /// Follows `Link` from `path` to the last page; returns the pages' items in order.
    static func walk(_ api: APIBench, _ path: String) async throws -> [[[String: Any]]] {
        var pages: [[[String: Any]]] = []
        var next: String? = path
        while let url = next {
            let page = try await Page.get(api, url, key: api.readerKey)
            #expect(page.status == 200, "\(url): \(page.text)")
            pages.append(page.array)
            next = page.next
            #expect(pages.count < 100)
        }
        return pages
    }

    @Test(
        "devices: pages concatenate to the filtered set in serial order, with no repeat while devices are added",
        arguments: [StoreKind.postgres, .sqlite]
    )
    func devicePages(kind: StoreKind) async throws {
        try await withAPI(kind) { api in
            let serials =
                (0..<25).map { String(format: "C02AB%07d", $0) } + (0..<5).map { String(format: "F9ZZ%08d", $0) }
            let body = ["devices": serials.map { ["serialNumber": $0] }]
            #expect(try await api.call("POST", "/v1/devices", key: api.adminKey, json: body).status == 201)
            let all = try await Self.walk(api, "/v1/devices?limit=7")
            #expect(all.map(\.count) == [7, 7, 7, 7, 2])
            #expect(all.flatMap { $0 }.compactMap { $0["serialNumber"] as? String } == serials.sorted())

            let prefixed = try await Self.walk(api, "/v1/devices?limit=2&serialPrefix=f9zz")
            #expect(prefixed.flatMap { $0 }.compactMap { $0["serialNumber"] as? String } == Array(serials.suffix(5)))

            // A device added behind the cursor mid-walk is not listed twice, nothing is skipped.
            let first = try await Page.get(api, "/v1/devices?limit=10", key: api.readerKey)
            _ = try await api.call(
                "POST",
                "/v1/devices",
                key: api.adminKey,
                json: ["devices": [["serialNumber": "A0000000001"]]]
            )
            let rest = try await Self.walk(api, try #require(first.next))
            let seen =
                first.array.compactMap { $0["serialNumber"] as? String }
                + rest.flatMap { $0 }.compactMap { $0["serialNumber"] as? String }
            #expect(seen == serials.sorted())

            let enrolled = try await api.call("GET", "/v1/devices?enrolled=true", key: api.readerKey)
            #expect(enrolled.status == 200 && enrolled.array.isEmpty)

            // sort=: another order with its own keyset, kept by the Link header; a cursor belongs to its order.
            let descending = try await Self.walk(api, "/v1/devices?limit=7&sort=-serial")
            let expected = (serials + ["A0000000001"]).sorted(by: >)
            #expect(descending.flatMap { $0 }.compactMap { $0["serialNumber"] as? String } == expected)
            let firstDown = try await Page.get(api, "/v1/devices?limit=7&sort=-serial", key: api.readerKey)
            let downCursor = try #require(firstDown.next?.components(separatedBy: "after=").last)
            let mixed = try await api.call("GET", "/v1/devices?limit=7&after=\(downCursor)", key: api.readerKey)
            #expect(mixed.status == 400 && mixed.errorCode == "bad_page_request", "\(mixed.text)")
            let badSort = try await api.call("GET", "/v1/devices?sort=colour", key: api.readerKey)
            #expect(badSort.status == 400 && badSort.text.contains("sort"), "\(badSort.text)")
            for bad in ["limit=0", "limit=1001", "after=nonsense", "serialPrefix=a-b", "enrolled=yes", "sort=-"] {
                let answer = try await api.call("GET", "/v1/devices?\(bad)", key: api.readerKey)
                #expect(answer.status == 400, "\(bad): \(answer.text)")
            }
        }
    }

    @Test("audit: newest first in pages, filtered by actor, action and time; bad filters are 400 naming them")
    func auditPages() async throws {
        try await withAPI(.postgres) { api in
            for index in 0..<6 {
                let created = try await api.call(
                    "POST",
                    "/v1/api-keys",
                    key: api.ownerKey,
                    json: ["name": "key \(index)", "role": "read-only"]
                )
                #expect(created.status == 201)
                api.world.clock.advance(days: 1.0 / 86_400)
            }
            let pages = try await Self.walk(api, "/v1/audit?limit=4&action=apikey.create&actor=api-key:owner")
            let records = pages.flatMap { $0 }
            #expect(records.count == 6 && pages.count == 2, "\(records)")
            let times = records.compactMap { $0["at"] as? String }
            #expect(times == times.sorted(by: >), "newest first")
            #expect(records.allSatisfy { $0["action"] as? String == "apikey.create" })
            let since = try #require(times.dropFirst(2).first)
            let recent = try await api.call("GET", "/v1/audit?action=apikey.create&since=\(since)", key: api.readerKey)
            #expect(recent.array.count == 3, "\(recent.text)")
            #expect(try await api.call("GET", "/v1/audit?actor=nobody", key: api.readerKey).array.isEmpty)
            for bad in ["since=yesterday", "until=2027-13-01T00:00:00Z", "after=a1.bm9wZQ==", "limit=x"] {
                let answer = try await api.call("GET", "/v1/audit?\(bad)", key: api.readerKey)
                #expect(answer.status == 400, "\(bad): \(answer.text)")
            }
            #expect(
                try await api.call("GET", "/v1/audit", key: api.strangerKey).array.allSatisfy {
                    $0["action"] as? String != "apikey.create" || ($0["actor"] as? String) != "api-key:owner"
                },
                "another tenant sees none of these"
            )
        }
    }
}

/// One page: status, the JSON array and the `Link` header (the shared harness does not keep headers).
struct Page {
    let status: Int
    let array: [[String: Any]]
    let link: String?
    let text: String

    /// The `rel="next"` URL's path and query.
    var next: String? { link.flatMap { $0.split(separator: ";").first }.map { String($0.dropFirst().dropLast()) } }

    static func get(_ api: APIBench, _ path: String, key: String) async throws -> Page {
        var request = HTTPClientRequest(url: api.baseURL + path)
        request.headers.add(name: "Authorization", value: "Bearer \(key)")
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let body = Data(buffer: try await response.body.collect(upTo: 16 << 20))
        return Page(
            status: Int(response.status.code),
            array: (try? JSONSerialization.jsonObject(with: body)) as? [[String: Any]] ?? [],
            link: response.headers.first(name: "Link"),
            text: String(decoding: body, as: UTF8.self)
        )
    }
}
