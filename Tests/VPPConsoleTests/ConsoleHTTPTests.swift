import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Testing
import VPPConsole
import VPPDomain
import VPPTestSupport
import VPPUseCases

/// A request context with a fixed client address (the router test framework has no real connection).
struct ConsoleTestContext: RequestContext, RemoteAddressRequestContext {
    var coreContext: CoreRequestContextStorage
    let remoteAddress: SocketAddress?

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = try? SocketAddress(ipAddress: "192.0.2.77", port: 40000)
    }
}

/// A browser's view of the console: cookies kept between requests, forms posted with their CSRF token.
struct ConsoleBrowser {
    let client: any TestClientProtocol
    var cookies: [String: String] = [:]
    static let origin = "http://localhost"

    mutating func get(_ path: String) async throws -> TestResponse {
        let response = try await client.execute(uri: path, method: .get, headers: headers())
        keep(response)
        return response
    }

    mutating func post(
        _ path: String,
        _ fields: [String: String],
        origin: String? = ConsoleBrowser.origin
    ) async throws -> TestResponse {
        var headers = headers()
        headers[.contentType] = "application/x-www-form-urlencoded"
        if let origin { headers[.origin] = origin }
        let body = fields.map {
            "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")"
        }.joined(separator: "&")
        let response = try await client.execute(
            uri: path,
            method: .post,
            headers: headers,
            body: ByteBuffer(string: body)
        )
        keep(response)
        return response
    }

    func headers() -> HTTPFields {
        var fields = HTTPFields()
        if !cookies.isEmpty { fields[.cookie] = cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; ") }
        return fields
    }

    mutating func keep(_ response: TestResponse) {
        for header in response.headers[values: .setCookie] {
            let pair = header.split(separator: ";")[0].split(separator: "=", maxSplits: 1).map(String.init)
            cookies[pair[0]] = pair.count > 1 ? pair[1] : ""
        }
    }

    /// The CSRF token of the page's first form.
    static func csrf(_ response: TestResponse) -> String {
        let html = String(buffer: response.body)
        guard let range = html.range(of: #"name="csrf" value="[0-9a-f]{64}""#, options: .regularExpression) else {
            return ""
        }
        return String(html[range].dropFirst(#"name="csrf" value=""#.count).dropLast())
    }

    mutating func signIn(
        _ username: String,
        password: String = ConsoleSignInTests.password
    ) async throws -> TestResponse {
        let form = try await get("/console/sign-in")
        return try await post(
            "/console/sign-in",
            ["csrf": Self.csrf(form), "username": username, "password": password]
        )
    }
}

/// The console's HTTP edge: headers, cookies, CSRF and Origin checks, role refusals, escaping.
@Suite("Console HTTP")
struct ConsoleHTTPTests {
    static func withConsole(
        secure: Bool = false,
        _ body: @Sendable (World, any TestClientProtocol) async throws -> Void
    ) async throws {
        try await withWorld(.sqlite) { world in
            let accounts = AdminAccounts(
                store: world.store,
                clock: world.clock,
                auditTrail: world.useCases.auditTrail,
                hasher: BcryptPasswordHasher(cost: 4)
            )
            for (name, role) in [
                ("owner", Role.mdmAdmin), ("reader", Role.readOnly), ("manager", Role.applicationManagementFullControl),
            ] {
                _ = try await accounts.create(
                    .system(world.tenant.id),
                    username: name,
                    role: role,
                    password: ConsoleSignInTests.password
                )
            }
            let router = Router(context: ConsoleTestContext.self)
            var policy = SignInPolicy()
            policy.failureDelay = .zero
            try await ConsoleRouter.add(
                to: router,
                useCases: world.useCases(signInPolicy: policy).console,
                options: ConsoleOptions(secureCookies: secure),
                logger: Logger(label: "test")
            )
            try await Application(router: router).test(.router) { client in try await body(world, client) }
        }
    }

    @Test(
        """
        pages carry a CSP without inline scripts, no framing, no caching; the session cookie is HttpOnly and \
        SameSite=Strict
        """
    )
    func headersAndCookies() async throws {
        try await Self.withConsole { _, client in
            var browser = ConsoleBrowser(client: client)
            let form = try await browser.get("/console/sign-in")
            let csp = try #require(form.headers[.contentSecurityPolicy])
            #expect(
                csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'")
                    && !csp.contains("unsafe-inline")
            )
            #expect(form.headers[.cacheControl] == "no-store" && form.headers[.xContentTypeOptions] == "nosniff")
            #expect(!String(buffer: form.body).contains("<script>"), "no inline script")
            let signedIn = try await browser.signIn("owner")
            #expect(signedIn.status == .seeOther && signedIn.headers[.location] == "/console/tokens")
            let cookie = try #require(
                signedIn.headers[values: .setCookie].first { $0.hasPrefix("vpp_console_session=") }
            )
            #expect(
                cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict") && cookie.contains("Path=/console")
                    && !cookie.contains("Secure")
            )
            let page = try await browser.get("/console/tokens")
            #expect(page.status == .ok && String(buffer: page.body).contains("owner · MDM Admin"))
        }
        try await Self.withConsole(secure: true) { _, client in
            var browser = ConsoleBrowser(client: client)
            let signedIn = try await browser.signIn("owner")
            #expect(signedIn.headers[values: .setCookie].allSatisfy { $0.contains("; Secure") })
        }
    }

    @Test("without a session every page sends the browser to sign-in, and every action is refused")
    func signedOut() async throws {
        try await Self.withConsole { world, client in
            var browser = ConsoleBrowser(client: client)
            for path in [
                "/console/tokens", "/console/apps", "/console/devices", "/console/users", "/console/reports",
                "/console/audit",
                "/console/reports/licences.csv",
            ] {
                let response = try await browser.get(path)
                #expect(response.status == .seeOther && response.headers[.location] == "/console/sign-in", "\(path)")
            }
            let post = try await browser.post("/console/devices", ["serials": "C02NOSESSION1"])
            #expect(post.status == .seeOther)
            #expect(try await world.useCases.manageInventory.devices(world.admin).isEmpty)
        }
    }

    @Test("a POST without the session's CSRF token, with another token, or from another origin changes nothing")
    func csrfAndOrigin() async throws {
        try await Self.withConsole { world, client in
            var browser = ConsoleBrowser(client: client)
            _ = try await browser.signIn("owner")
            let csrf = ConsoleBrowser.csrf(try await browser.get("/console/devices"))
            #expect(csrf.count == 64)
            let attempts: [([String: String], String?)] = [
                (["serials": "C02CSRF00001"], ConsoleBrowser.origin),
                (["serials": "C02CSRF00002", "csrf": String(repeating: "a", count: 64)], ConsoleBrowser.origin),
                (["serials": "C02CSRF00003", "csrf": csrf], "http://evil.example"),
                (["serials": "C02CSRF00004", "csrf": csrf], nil),
                (["serials": "C02CSRF00005", "csrf": csrf], "null"),
            ]
            for (fields, origin) in attempts {
                let response = try await browser.post("/console/devices", fields, origin: origin)
                #expect(response.status == .forbidden, "\(fields) from \(origin ?? "no origin")")
                #expect(String(buffer: response.body).contains("Form refused"))
            }
            #expect(try await world.useCases.manageInventory.devices(world.admin).isEmpty)
            // Sign-in itself needs its pre-session token.
            var stranger = ConsoleBrowser(client: client)
            let forged = try await stranger.post(
                "/console/sign-in",
                ["username": "owner", "password": ConsoleSignInTests.password]
            )
            #expect(forged.status == .forbidden && forged.headers[values: .setCookie].isEmpty)
            // The genuine form goes through.
            let ok = try await browser.post("/console/devices", ["serials": "C02CSRF00006", "csrf": csrf])
            #expect(ok.status == .seeOther)
            #expect(
                try await world.useCases.manageInventory.devices(world.admin).map(\.serialNumber.value) == [
                    "C02CSRF00006"
                ]
            )
        }
    }

    @Test("a read-only admin sees no write control, and the server refuses its forged writes")
    func readOnly() async throws {
        try await Self.withConsole { world, client in
            var browser = ConsoleBrowser(client: client)
            _ = try await browser.signIn("reader")
            let tokens = String(buffer: try await browser.get("/console/tokens").body)
            #expect(!tokens.contains("Content token file") && !tokens.contains("enctype=\"multipart/form-data\""))
            let devicesPage = try await browser.get("/console/devices")
            #expect(!String(buffer: devicesPage.body).contains("Add devices"))
            let csrf = ConsoleBrowser.csrf(devicesPage)
            let forged = try await browser.post("/console/devices", ["serials": "C02READONLY1", "csrf": csrf])
            #expect(
                forged.status == .forbidden && String(buffer: forged.body).contains("reader (role Read-only) lacks")
            )
            let upload = try await browser.post("/console/tokens", ["csrf": csrf])
            #expect(upload.status == .forbidden)
            #expect(try await world.useCases.manageInventory.devices(world.admin).isEmpty)
            let audit = try await world.useCases.catalogue.auditLog(world.admin, limit: 20)
            #expect(!audit.contains { $0.actor == "reader" && $0.action == "device.add" })
        }
    }

    @Test("bad input comes back on the form with the input kept and the CLI's message; text is escaped")
    func badInputAndEscaping() async throws {
        try await Self.withConsole { world, client in
            var browser = ConsoleBrowser(client: client)
            _ = try await browser.signIn("manager")
            let csrf = ConsoleBrowser.csrf(try await browser.get("/console/devices"))
            let bad = try await browser.post("/console/devices", ["serials": "<script>x</script>", "csrf": csrf])
            let html = String(buffer: bad.body)
            #expect(bad.status == .unprocessableContent)
            #expect(html.contains("&lt;script&gt;x&lt;/script&gt;") && !html.contains("<script>x"))
            #expect(html.contains("is not a device serial number"))
            let search = String(buffer: try await browser.get("/console/devices?q=%22%3E%3Cscript%3E").body)
            #expect(search.contains("value=\"&quot;&gt;&lt;script&gt;\"") && !search.contains("\"><script>"))
            #expect(try await world.useCases.manageInventory.devices(world.admin).isEmpty)
        }
    }

    @Test("sign-out ends the session on the server: the old cookie no longer opens a page")
    func signOut() async throws {
        try await Self.withConsole { _, client in
            var browser = ConsoleBrowser(client: client)
            _ = try await browser.signIn("owner")
            let cookie = browser.cookies
            let csrf = ConsoleBrowser.csrf(try await browser.get("/console/tokens"))
            let out = try await browser.post("/console/sign-out", ["csrf": csrf])
            #expect(out.status == .seeOther && out.headers[.location] == "/console/sign-in")
            var replay = ConsoleBrowser(client: client, cookies: cookie)
            let page = try await replay.get("/console/tokens")
            #expect(page.status == .seeOther && page.headers[.location] == "/console/sign-in")
        }
    }

    @Test("long lists page by cursor with previous and next links that work without JavaScript, and search")
    func paging() async throws {
        try await Self.withConsole { world, client in
            let serials = (1...120).map { String(format: "C02PAGE%05d", $0) }
            try await world.useCases.manageInventory.addDevices(
                world.admin,
                try serials.map {
                    Device(tenantID: world.tenant.id, serialNumber: try SerialNumber($0))
                }
            )
            var browser = ConsoleBrowser(client: client)
            _ = try await browser.signIn("reader")
            let first = String(buffer: try await browser.get("/console/devices").body)
            #expect(
                first.contains("Rows 1–50 of 120 (page 1)") && first.contains("C02PAGE00001")
                    && !first.contains("C02PAGE00051")
            )
            #expect(!first.contains("rel=\"prev\""))
            let next = try #require(Self.link(first, rel: "next"))
            #expect(next.hasPrefix("/console/devices?q=&after=d1%2E") && next.hasSuffix("&back="))
            let second = String(buffer: try await browser.get(next).body)
            #expect(
                second.contains("Rows 51–100 of 120 (page 2)") && second.contains("C02PAGE00051")
                    && !second.contains("C02PAGE00050") && !second.contains("C02PAGE00101")
            )
            let third = String(buffer: try await browser.get(try #require(Self.link(second, rel: "next"))).body)
            #expect(third.contains("Rows 101–120 of 120 (page 3)") && third.contains("C02PAGE00120"))
            #expect(Self.link(third, rel: "next") == nil)
            // Previous goes back the way it came: page 2, then the first page.
            let back = String(buffer: try await browser.get(try #require(Self.link(third, rel: "prev"))).body)
            #expect(back.contains("Rows 51–100 of 120 (page 2)") && back.contains("C02PAGE00051"))
            #expect(Self.link(back, rel: "prev") == "/console/devices?q=")
            // Search, inside the serial, case-insensitive; a forged cursor is refused, not misread.
            let found = String(buffer: try await browser.get("/console/devices?q=page0011").body)
            #expect(found.contains("Rows 1–10 of 10 (page 1)") && Self.link(found, rel: "next") == nil)
            // Sorting: each sortable header links to its order from the first page (again: the other direction);
            // the pages of an order follow its own keyset, and the total is the filter's.
            let header = try #require(Self.header(first, "Serial number"))
            #expect(header == "/console/devices?q=&sort=-serial" && first.contains("aria-sort=\"ascending\""))
            let descending = String(buffer: try await browser.get(header).body)
            #expect(descending.contains("aria-sort=\"descending\""))
            #expect(descending.contains("Rows 1–50 of 120 (page 1)"))
            #expect(descending.contains("C02PAGE00120") && !descending.contains("C02PAGE00070"))
            let down = try #require(Self.link(descending, rel: "next"))
            #expect(down.hasPrefix("/console/devices?q=&sort=-serial&after=d2%2E"), "\(down)")
            let downSecond = String(buffer: try await browser.get(down).body)
            #expect(downSecond.contains("Rows 51–100 of 120 (page 2)") && downSecond.contains("C02PAGE00070"))
            #expect(!downSecond.contains("C02PAGE00071") && !downSecond.contains("C02PAGE00020"))
            #expect(Self.header(downSecond, "Serial number") == "/console/devices?q=&sort=serial")
            // A cursor of one order is refused in another, not misread.
            let mixed = try await browser.get(down.replacingOccurrences(of: "sort=-serial", with: "sort=name"))
            #expect(mixed.status == .unprocessableContent)
            let forged = try await browser.get("/console/devices?after=nonsense")
            #expect(
                forged.status == .unprocessableContent
                    && String(buffer: forged.body).contains("not a cursor this listing gave")
            )
        }
    }

    /// The `href` of the sorting link in the header cell labelled `label`, unescaped.
    static func header(_ html: String, _ label: String) -> String? {
        guard let end = html.range(of: "\">\(label)<") else { return nil }
        guard let start = html[..<end.lowerBound].range(of: "href=\"", options: .backwards) else { return nil }
        return String(html[start.upperBound..<end.lowerBound]).replacingOccurrences(of: "&amp;", with: "&")
    }

    /// The `href` of the pager's link with this `rel`, unescaped.
    static func link(_ html: String, rel: String) -> String? {
        guard let end = html.range(of: "\" rel=\"\(rel)\"") else { return nil }
        guard let start = html[..<end.lowerBound].range(of: "href=\"", options: .backwards) else { return nil }
        return String(html[start.upperBound..<end.lowerBound]).replacingOccurrences(of: "&amp;", with: "&")
    }
}
