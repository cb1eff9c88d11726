import Foundation
import HTTPTypes
import Hummingbird
import VPPDomain
import VPPUseCases

/// The sign-in page.
struct SignInPage: Sendable {
    let chrome: Chrome
    let csrf: String
    let username: String
    let error: String?
}

/// Sign-in and sign-out.
enum SessionPages {
    static func add<Context: RemoteAddressRequestContext>(to group: RouterGroup<Context>, _ console: Console) {
        group.get("sign-in") { request, _ in
            if (try? await console.currentSession(request)) != nil { return Console.redirect("/console/tokens") }
            return signInForm(console, error: nil, username: "", status: .ok)
        }
        group.post("sign-in") { request, context in
            guard let expected = request.cookies[Console.signInCookie]?.value,
                let form = await console.checkedForm(request, context, expected: expected)
            else { return console.refusedForm() }
            let username = form["username"] ?? ""
            let outcome: SignInOutcome
            do {
                outcome = try await console.signIn.signIn(
                    login: username,
                    password: form["password"] ?? "",
                    address: context.clientAddress
                )
            } catch {
                return console.failurePage(error)
            }
            guard case .signedIn(let cookie, let session) = outcome else {
                return signInForm(console, error: outcome.message, username: username, status: .unauthorized)
            }
            var response = Console.redirect("/console/tokens")
            response.setCookie(
                console.cookie(
                    Console.sessionCookie,
                    cookie,
                    maxAge: Int(session.expiresAt.timeIntervalSince(console.useCases.clock.now()))
                )
            )
            response.setCookie(console.cookie(Console.signInCookie, "", maxAge: 0))
            return response
        }
        group.post("sign-out") { request, context in
            await console.action(request, context) { session, _ in
                if let cookie = request.cookies[Console.sessionCookie]?.value {
                    try await console.signIn.signOut(cookie: cookie, session: session)
                }
                var response = Console.redirect("/console/sign-in")
                response.setCookie(console.cookie(Console.sessionCookie, "", maxAge: 0))
                return response
            }
        }
    }

    /// The form with a fresh pre-session token (cookie and hidden field), the typed username kept.
    static func signInForm(
        _ console: Console,
        error: String?,
        username: String,
        status: HTTPResponse.Status
    ) -> Response {
        let token = ConsoleRandom.hex()
        var response = console.renderer.page(
            "sign-in",
            SignInPage(
                chrome: Console.anonymousChrome("Sign in"),
                csrf: token,
                username: username,
                error: error
            ),
            status: status
        )
        response.setCookie(console.cookie(Console.signInCookie, token, maxAge: 3600))
        return response
    }
}
