import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import VPPDomain
import VPPUseCases

/// What every page shows around its content: who is signed in, the navigation, the token banner, the
/// outcome of the last action, and the CSRF token the page's forms carry.
struct Chrome: Sendable {
    struct NavItem: Sendable {
        let label: String
        let href: String
        let current: Bool
    }
    struct Banner: Sendable {
        let text: String
        let href: String
    }

    let title: String
    let signedIn: Bool
    let username: String
    let role: String
    let csrf: String
    let nav: [NavItem]
    let banners: [Banner]
    let notice: String?
    let error: String?
}

/// The console's shared machinery: sessions, the CSRF and Origin checks, errors as pages, the banner.
struct Console: Sendable {
    /// The use cases, built once for every request.
    let useCases: ConsoleUseCases
    let renderer: ConsoleRenderer
    let signIn: ConsoleSignIn
    let options: ConsoleOptions
    let logger: Logger

    static let sessionCookie = "vpp_console_session"
    /// Before sign-in there is no session: the sign-in form's token is paired with this cookie instead.
    static let signInCookie = "vpp_console_signin"
    static let bodyLimit = 256 * 1024

    static let sections: [(label: String, href: String)] = [
        ("Tokens", "/console/tokens"), ("Apps", "/console/apps"), ("Devices", "/console/devices"),
        ("Users", "/console/users"), ("Scopes", "/console/scopes"),
        ("Reports", "/console/reports"), ("Audit log", "/console/audit"),
    ]

    // MARK: Sessions

    func currentSession(_ request: Request) async throws -> (cookie: String, session: ConsoleSession)? {
        guard let cookie = request.cookies[Self.sessionCookie]?.value,
            let session = try await signIn.session(cookie: cookie)
        else { return nil }
        return (cookie, session)
    }

    func cookie(_ name: String, _ value: String, maxAge: Int) -> Cookie {
        Cookie(
            name: name,
            value: value,
            maxAge: maxAge,
            path: "/console",
            secure: options.secureCookies,
            httpOnly: true,
            sameSite: .strict
        )
    }

    // MARK: Page chrome

    func chrome(
        _ session: ConsoleSession,
        title: String,
        section: String,
        notice: String? = nil,
        error: String? = nil
    ) async -> Chrome {
        Chrome(
            title: title,
            signedIn: true,
            username: session.username,
            role: session.role.displayName,
            csrf: session.csrfToken,
            nav: Self.sections.map { .init(label: $0.label, href: $0.href, current: $0.label == section) },
            banners: await banners(session.caller),
            notice: notice,
            error: error
        )
    }

    /// One line per token that needs the admin: expiring within 30 days, expired, revoked, invalid, held elsewhere.
    func banners(_ caller: Caller) async -> [Chrome.Banner] {
        guard let tokens = try? await useCases.consoleLists.tokenStatuses(caller) else { return [] }
        return tokens.compactMap { token, status in
            let name = token.location.name
            let href = "/console/tokens/\(token.id)"
            switch status {
            case .active: return nil
            case .expiringSoon(let days):
                return .init(
                    text: "The token of \(name) expires in \(days) day\(days == 1 ? "" : "s"): renew it.",
                    href: href
                )
            case .expired: return .init(text: "The token of \(name) has expired: renew it.", href: href)
            case .revoked:
                return .init(text: "The token of \(name) was revoked in Apple Business Manager: renew it.", href: href)
            case .invalid: return .init(text: "Apple no longer accepts the token of \(name): renew it.", href: href)
            case .inUseElsewhere(let holder):
                return .init(
                    text:
                        "The token of \(name) is in use by \(Self.holderName(holder)): take it over or stop using "
                        + "it there.",
                    href: href
                )
            }
        }
    }

    static func holderName(_ holder: HolderIdentity) -> String {
        holder.isAppleConfigurator ? "Apple Configurator" : holder.name
    }

    // MARK: Handling

    /// A signed-in GET: no session sends the browser to the sign-in page.
    func page(_ request: Request, _ body: (ConsoleSession) async throws -> Response) async -> Response {
        do {
            guard let (_, session) = try await currentSession(request) else { return Self.redirect("/console/sign-in") }
            do { return try await body(session) } catch { return await failure(error, session: session) }
        } catch {
            return failurePage(error)
        }
    }

    /// A signed-in POST: same-origin, the session's CSRF token in the form, then `body`.
    func action(
        _ request: Request,
        _ context: some RequestContext,
        _ body: (ConsoleSession, ConsoleForm) async throws -> Response
    ) async -> Response {
        do {
            guard let (_, session) = try await currentSession(request) else { return Self.redirect("/console/sign-in") }
            guard let form = await checkedForm(request, context, expected: session.csrfToken) else {
                return refusedForm()
            }
            do { return try await body(session, form) } catch { return await failure(error, session: session) }
        } catch {
            return failurePage(error)
        }
    }

    /// Reads the form if the request came from this console's own page: the Origin (or Referer) names
    /// this host, and the form's `csrf` field equals `expected`. `nil` otherwise.
    func checkedForm(_ request: Request, _ context: some RequestContext, expected: String) async -> ConsoleForm? {
        guard Self.sameOrigin(request) else { return nil }
        var request = request
        guard let buffer = try? await request.collectBody(upTo: Self.bodyLimit) else { return nil }
        let form = ConsoleForm(contentType: request.headers[.contentType], body: Data(buffer: buffer))
        guard let token = form["csrf"], ConsoleRandom.constantTimeEquals(token, expected) else { return nil }
        return form
    }

    /// Whether the request's Origin (or, lacking one, its Referer) is this console's own address.
    static func sameOrigin(_ request: Request) -> Bool {
        guard let host = request.head.authority else { return false }
        let allowed = ["http://\(host)", "https://\(host)"]
        if let origin = request.headers[.origin] { return allowed.contains(origin) }
        if let referer = request.headers[.referer] {
            return allowed.contains { referer == $0 || referer.hasPrefix($0 + "/") }
        }
        return false
    }

    func refusedForm() -> Response {
        let model = ErrorPage(
            chrome: Self.anonymousChrome("Form refused"),
            heading: "Form refused",
            message: "This form did not come from this console or has expired. Go back, reload the page and try again."
        )
        return renderer.page("error", model, status: .forbidden)
    }

    /// An error from a use case as a page (refusals as 403, bad input as 422, the rest as 500).
    func failure(_ error: any Error, session: ConsoleSession) async -> Response {
        let (status, message) = describe(error)
        let chrome = await chrome(session, title: "Refused", section: "")
        let heading =
            status == .forbidden ? "Not allowed" : status == .internalServerError ? "Something went wrong" : "Refused"
        return renderer.page("error", ErrorPage(chrome: chrome, heading: heading, message: message), status: status)
    }

    func failurePage(_ error: any Error) -> Response {
        let (status, message) = describe(error)
        return renderer.page(
            "error",
            ErrorPage(chrome: Self.anonymousChrome("Error"), heading: "Something went wrong", message: message),
            status: status
        )
    }

    /// The same sentences the CLI prints; details of unexpected errors stay in the log.
    func describe(_ error: any Error) -> (HTTPResponse.Status, String) {
        switch error {
        case let error as AccessDenied: return (.forbidden, error.description)
        case UseCaseError.unauthorised: return (.forbidden, UseCaseError.unauthorised.description)
        case let error as UseCaseError: return (.unprocessableContent, error.description)
        case let error as TokenFileError: return (.unprocessableContent, error.description)
        case let error as IdentifierError: return (.unprocessableContent, error.description)
        case let error as LicenceError: return (.unprocessableContent, error.description)
        case let error as AdminAccountError: return (.unprocessableContent, error.description)
        case let error as DesiredStateError: return (.unprocessableContent, error.description)
        case let error as DeclarationError: return (.unprocessableContent, error.description)
        case let error as StoreError:
            switch error {
            case .unknownToken, .unknownApp, .unknownDevice, .unknownUser: return (.notFound, error.description)
            case .unavailable:
                logger.error("console request failed", metadata: ["error": "\(String(reflecting: error))"])
                return (.serviceUnavailable, "The database is unavailable; try again shortly.")
            default: return (.unprocessableContent, error.description)
            }
        case let error as AppleAPIError: return (.badGateway, error.description)
        case let error as ConsolePageError: return (error.status, error.message)
        default:
            logger.error("console request failed", metadata: ["error": "\(String(reflecting: error))"])
            return (.internalServerError, "Something went wrong; the server logged the details.")
        }
    }

    static func anonymousChrome(_ title: String) -> Chrome {
        Chrome(
            title: title,
            signedIn: false,
            username: "",
            role: "",
            csrf: "",
            nav: [],
            banners: [],
            notice: nil,
            error: nil
        )
    }

    /// POST → 303 → GET, so a reload never repeats an action.
    static func redirect(_ location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location])
    }

    /// The form's error message for `error`, when it is bad input to show on the form (nil: a whole-page failure).
    func formMessage(_ error: any Error) -> String? {
        let (status, message) = describe(error)
        return status == .unprocessableContent || status == .notFound || status == .badGateway ? message : nil
    }
}

/// A page-level refusal with its own status (e.g. an unknown app in the URL).
struct ConsolePageError: Error {
    let status: HTTPResponse.Status
    let message: String
}

/// The page for refusals and failures.
struct ErrorPage: Sendable {
    let chrome: Chrome
    let heading: String
    let message: String
}

/// Where the console is served and how its cookies are marked.
public struct ConsoleOptions: Sendable {
    /// Mark cookies `Secure` (set when the console is reached over TLS, e.g. `VPP_PUBLIC_URL` is https).
    public var secureCookies: Bool

    /// The sign-in throttle is the use case's (``ConsoleSignIn``), built with it by the composition root.
    public init(secureCookies: Bool = false) {
        self.secureCookies = secureCookies
    }
}
