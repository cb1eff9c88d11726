import Foundation
import Hummingbird
import VPPDomain
import VPPUseCases

/// The query of `GET /v1/licenses`: filters, page size and cursor, each refused with a 400 naming it when
/// it is not one the listing can serve.
enum LicenceListingParameters {
    /// The parameters `GET /v1/licenses` declares.
    static var declared: [APIOperation.Parameter] {
        ListingAnswer.pageParameters + [
            ListingAnswer.sortParameter(LicenceSortColumn.self),
            .query("adamId", .ref(AdamIDSchema.self)),
            .query("pricingParam", .oneOf(PricingParam.self), "With adamId"),
            .query("tokenId", .uuid), .query("serialNumber", .string), .query("clientUserId", .string),
            .query("state", .oneOf(AssignmentState.Code.self)),
        ]
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
}
