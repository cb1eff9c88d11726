import Foundation
import Hummingbird
import VPPDomain
import VPPUseCases

/// The query of `GET /v1/licenses`: filters, page size and cursor, each refused with a 400 naming it when
/// it is not one the listing can serve.
enum LicenceListingParameters {
    static func limit(_ query: QueryParameters) throws -> Int {
        guard let text = try query.single("limit", allowed: ["1…\(Catalogue.maxPageSize)"]) else {
            return Catalogue.maxPageSize
        }
        guard let limit = Int(text), (1...Catalogue.maxPageSize).contains(limit) else {
            throw BadQueryParameter(name: "limit", value: text, allowed: ["1…\(Catalogue.maxPageSize)"])
        }
        return limit
    }

    static func filter(_ query: QueryParameters) throws -> LicenceFilter {
        var filter = LicenceFilter()
        if let adamID = try query.single("adamId", allowed: ["an adamId"]) {
            guard !adamID.isEmpty, adamID.count <= 20, adamID.allSatisfy({ $0.isASCII && $0.isNumber }) else {
                throw BadQueryParameter(name: "adamId", value: adamID, allowed: ["an adamId (digits)"])
            }
            let pricing = try query.value("pricingParam", as: PricingParam.self) ?? .standard
            filter.asset = AssetKey(adamID: adamID, pricingParam: pricing)
        } else if try query.single("pricingParam", allowed: []) != nil {
            throw BadQueryParameter(name: "pricingParam", value: "", allowed: ["only with adamId"])
        }
        if let token = try query.single("tokenId", allowed: ["a token id"]) {
            guard let id = TokenID(uuidString: token) else {
                throw BadQueryParameter(name: "tokenId", value: token, allowed: ["a token id"])
            }
            filter.tokenID = id
        }
        let serial = try query.single("serialNumber", allowed: ["a serial number"])
        let user = try query.single("clientUserId", allowed: ["a clientUserId"])
        switch (serial, user) {
        case (let serial?, nil):
            guard let valid = try? SerialNumber(serial) else {
                throw BadQueryParameter(name: "serialNumber", value: serial, allowed: ["a serial number"])
            }
            filter.assignee = .device(valid)
        case (nil, let user?):
            guard let valid = try? ClientUserID(user) else {
                throw BadQueryParameter(name: "clientUserId", value: user, allowed: ["a clientUserId"])
            }
            filter.assignee = .user(valid)
        case (_?, _?):
            throw BadQueryParameter(name: "clientUserId", value: user ?? "", allowed: ["not with serialNumber"])
        case (nil, nil):
            break
        }
        if let state = try query.value("state", as: AssignmentState.Code.self) { filter.states = [state] }
        return filter
    }

    /// The request's own URL with `after` set to `cursor` (the `Link: rel="next"` target).
    static func nextURL(_ request: Request, cursor: String) -> String {
        var components = URLComponents()
        components.path = request.uri.path
        var items = request.uri.queryParameters.filter { "\($0.key)" != "after" }.map {
            URLQueryItem(name: "\($0.key)", value: "\($0.value)")
        }
        items.append(URLQueryItem(name: "after", value: cursor))
        components.queryItems = items
        return components.string ?? request.uri.path
    }
}
