import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import VPPDomain
import VPPUseCases

/// The web console at `/console/`: server-rendered pages over the use cases, mounted on vppd's router.
public enum ConsoleRouter {
    /// Adds the console's routes to `router`. The context must know the client's address (sign-in throttling).
    public static func add<Context: RemoteAddressRequestContext>(
        to router: Router<Context>,
        useCases: ConsoleUseCases,
        options: ConsoleOptions = ConsoleOptions(),
        logger: Logger
    ) async throws {
        let console = Console(
            useCases: useCases,
            renderer: try await ConsoleRenderer.load(),
            signIn: useCases.consoleSignIn,
            options: options,
            logger: logger
        )
        let group = router.group("console").add(middleware: ConsoleHeadersMiddleware<Context>())
        group.get("") { _, _ in Console.redirect("/console/tokens") }
        group.get("static/{file}") { _, context in
            guard let file = console.renderer.statics[try context.parameters.require("file")] else {
                return Response(status: .notFound)
            }
            return Response(
                status: .ok,
                headers: [.contentType: file.type, .cacheControl: "max-age=300"],
                body: .init(byteBuffer: file.bytes)
            )
        }
        SessionPages.add(to: group, console)
        TokenPages.add(to: group, console)
        AppPages.add(to: group, console)
        InventoryPages.add(to: group, console)
        ScopePages.add(to: group, console)
        ReportPages.add(to: group, console)
    }
}

/// Security headers on every console response: a CSP without inline scripts or styles, no framing,
/// no sniffing, no caching of pages that show tenant data.
struct ConsoleHeadersMiddleware<Context: RequestContext>: RouterMiddleware {
    static var policy: String {
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
            + "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    }

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var response = try await next(request, context)
        response.headers[.contentSecurityPolicy] = Self.policy
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[HTTPField.Name("X-Frame-Options")!] = "DENY"
        response.headers[HTTPField.Name("Referrer-Policy")!] = "same-origin"
        if response.headers[.cacheControl] == nil { response.headers[.cacheControl] = "no-store" }
        return response
    }
}

extension RemoteAddressRequestContext {
    /// The client's address without its port (the key for throttling failed sign-ins).
    var clientAddress: String { remoteAddress?.ipAddress ?? "unknown" }
}
