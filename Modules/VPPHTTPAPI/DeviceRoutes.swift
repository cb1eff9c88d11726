import Foundation
import Hummingbird
import VPPDomain
import VPPUseCases

extension DeviceDetailView: APISchema {
    public static let schemaName = "DeviceDetail"
    public static var schema: JSONSchema {
        .object(
            [
                "device": .ref(DeviceView.self),
                "apps": .array(
                    .object(
                        [
                            "adamId": .ref(AdamIDSchema.self), "pricingParam": .string,
                            "delivery": .oneOf(["declaration", "command", "none"]),
                            "deviceReasons": .array(.string).described("The device's reason codes, last report"),
                        ],
                        optional: [
                            "licence": .oneOf(AssignmentState.Code.self), "licenceReason": .string,
                            "install": .oneOf(DeviceCommandState.self),
                            "declaration": .string.described("The declaration's identifier (also its set's name)"),
                            "join": .oneOf(DeclarationSetChangeState.self),
                            "leave": .oneOf(DeclarationSetChangeState.self),
                            "attempts": .integer(minimum: 0), "lastError": .string,
                            "deviceState": .string.described("app.managed.list state the device last reported"),
                            "reportedAt": .timestamp, "healAttempts": .integer(minimum: 0),
                            "heal": .oneOf(HealStep.self),
                            "healReason": .string.described("Apple's and the device's reasons of the last heal"),
                        ]
                    )
                ),
            ]
        )
    }
}

/// `GET /v1/devices/{serial}`: one device with its apps, their licences, declarations and the device's own status.
enum DeviceRoutes {
    static let operations: [APIOperation] = [
        APIOperation(
            method: .get,
            path: "/v1/devices/{serial}",
            operationID: "showDevice",
            summary: "One device and, for each app, its licence, how the app reaches it (declaration or command) and "
                + "where that stands (join/leave, attempts, last error, heals), and the device's last reported "
                + "state and reasons",
            access: .apiKey(.read),
            parameters: [.path("serial", .ref(SerialNumberSchema.self))],
            answers: [.json(200, "The device", .ref(DeviceDetailView.self))],
            errors: [404, 422]
        ) { call in
            let serial = try SerialNumber(try call.path("serial"))
            return json(try await call.useCases.deviceDetail(try call.caller(), serial: serial))
        }
    ]
}
