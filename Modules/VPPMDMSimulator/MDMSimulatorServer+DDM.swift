import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOFoundationCompat

/// KMFDDM's `/v1/…` API and the `/sim/ddm/…` admin API of the declarative side.
extension MDMSimulatorServer {
    struct DDMConfigBody: Decodable {
        let vppsimURL: String?
        let statusURL: String?
        let statusAPIKey: String?
        let statusRoute: String?
        let evaluationDelayMilliseconds: Int?
    }

    struct DDMUserEnrollmentBody: Decodable {
        let udid: String
        let enrollmentId: String
        let clientUserId: String
    }

    struct DDMFaultBody: Decodable {
        let mode: String
        let delayMilliseconds: Int?
        let serials: [String]?
    }

    static func answer(_ result: MDMSimulator.KMFDDMAnswer) -> Response {
        guard let body = result.body else { return Response(status: .init(code: result.status)) }
        return Response(
            status: .init(code: result.status),
            headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(data: body))
        )
    }

    static let unauthorized = answer((401, MDMSimulator.errorBody("unauthorized")))

    /// Registers one KMFDDM route behind Basic `kmfddm:<key>`.
    func kmfddm(
        _ router: Router<BasicRequestContext>,
        _ path: RouterPath,
        _ method: HTTPRequest.Method,
        _ handle: @escaping @Sendable (Request, BasicRequestContext) async throws -> MDMSimulator.KMFDDMAnswer
    ) {
        let simulator = self.simulator
        router.on(path, method: method) { request, context in
            guard await simulator.kmfddmAuthorized(request.headers[.authorization]) else { return Self.unauthorized }
            if let refused = await simulator.kmfddmGate() { return Self.answer(refused) }
            return Self.answer(try await handle(request, context))
        }
    }

    static func query(_ request: Request, _ name: String) -> String? {
        request.uri.queryParameters[Substring(name)].map { String($0).removingPercentEncoding ?? String($0) }
    }

    static func id(_ context: BasicRequestContext) throws -> String {
        let raw = try context.parameters.require("id")
        return raw.removingPercentEncoding ?? raw
    }

    func addDDMRoutes(_ router: Router<BasicRequestContext>) {
        let simulator = self.simulator
        kmfddm(router, "/v1/declarations", .get) { _, _ in await simulator.listDeclarations() }
        kmfddm(router, "/v1/declarations", .put) { request, _ in
            var request = request
            let body = try await request.collectBody(upTo: 1 << 20)
            return await simulator.putDeclaration(Data(buffer: body))
        }
        kmfddm(router, "/v1/declarations/{id}", .get) { await simulator.getDeclaration(try Self.id($1)) }
        kmfddm(router, "/v1/declarations/{id}", .delete) { await simulator.deleteDeclaration(try Self.id($1)) }
        kmfddm(router, "/v1/declarations/{id}/touch", .post) { await simulator.touchDeclaration(try Self.id($1)) }
        kmfddm(router, "/v1/sets", .get) { _, _ in await simulator.listSets() }
        kmfddm(router, "/v1/set-declarations/{id}", .get) { await simulator.setDeclarations(try Self.id($1)) }
        for (method, add) in [(HTTPRequest.Method.put, true), (.delete, false)] {
            kmfddm(router, "/v1/set-declarations/{id}", method) { request, context in
                await simulator.changeSetDeclaration(
                    set: try Self.id(context),
                    declaration: Self.query(request, "declaration"),
                    add: add
                )
            }
            kmfddm(router, "/v1/enrollment-sets/{id}", method) { request, context in
                await simulator.changeEnrollmentSet(
                    enrollmentID: try Self.id(context),
                    set: Self.query(request, "set"),
                    add: add
                )
            }
        }
        kmfddm(router, "/v1/enrollment-sets/{id}", .get) { await simulator.enrollmentSets(try Self.id($1)) }
        kmfddm(router, "/v1/declaration-sets/{id}", .get) { await simulator.declarationSets(try Self.id($1)) }
        kmfddm(router, "/v1/declaration-status/{id}", .get) {
            await simulator.declarationStatus(try Self.id($1).split(separator: ",").map(String.init))
        }

        router.get("/v1/status-report/{id}") { request, context in
            guard await simulator.kmfddmAuthorized(request.headers[.authorization]) else { return Self.unauthorized }
            if let refused = await simulator.kmfddmGate() { return Self.answer(refused) }
            let answer = await simulator.statusReport(
                enrollmentID: try Self.id(context),
                index: Self.query(request, "index"),
                statusID: Self.query(request, "status_id")
            )
            var headers: HTTPFields = [.contentType: "application/json"]
            for (name, value) in answer.headers {
                if let field = HTTPField.Name(name) { headers[field] = value }
            }
            return Response(
                status: .init(code: answer.status),
                headers: headers,
                body: .init(byteBuffer: ByteBuffer(data: answer.body))
            )
        }

        router.put("/sim/ddm/config") { request, _ in
            let body = try await Self.decode(DDMConfigBody.self, request)
            let route = try body.statusRoute.map { name in
                guard let route = DDMStatusRoute(rawValue: name) else {
                    throw HTTPError(.badRequest, message: "statusRoute must be one of post, webhook, kmfddm")
                }
                return route
            }
            if let delay = body.evaluationDelayMilliseconds, !(0...600_000).contains(delay) {
                throw HTTPError(.badRequest, message: "evaluationDelayMilliseconds must be 0 to 600000")
            }
            await simulator.configureDDM(
                vppsimURL: body.vppsimURL,
                statusURL: body.statusURL,
                statusAPIKey: body.statusAPIKey,
                statusRoute: route,
                evaluationDelayMilliseconds: body.evaluationDelayMilliseconds
            )
            return Self.json(["ok": true])
        }
        router.put("/sim/ddm/faults") { request, _ in
            let body = try await Self.decode(DDMFaultBody.self, request)
            guard let fault = DDMFault(rawValue: body.mode) else {
                throw HTTPError(.badRequest, message: "mode must be one of \(DDMFault.allCases.map(\.rawValue))")
            }
            await simulator.setDDMFault(
                fault,
                delayMilliseconds: body.delayMilliseconds ?? (fault == .late ? 3000 : 0),
                serials: body.serials ?? []
            )
            return Self.json(["mode": fault.rawValue])
        }
        router.post("/sim/ddm/user-enrollments") { request, _ in
            let body = try await Self.decode(DDMUserEnrollmentBody.self, request)
            guard
                await simulator.addUserEnrollment(
                    udid: body.udid,
                    enrollmentID: body.enrollmentId,
                    clientUserID: body.clientUserId
                )
            else { throw HTTPError(.notFound, message: "no device \(body.udid) (or the id is a device's)") }
            return Self.json(["enrollmentId": body.enrollmentId], status: .created)
        }
        router.get("/sim/ddm/set-changes") { _, _ in Self.json(await simulator.recordedSetChanges()) }
        router.get("/sim/ddm/devices") { _, _ in Self.json(await simulator.declaredApps()) }
        router.get("/sim/ddm/stats") { _, _ in Self.json(await simulator.ddmStats) }
    }
}
