import Foundation
import Hummingbird
import VPPDomain
import VPPUseCases

/// `GET /v1/devices`: the device inventory.
enum DeviceRoutes {
    static let list = APIOperation(
        method: .get, path: "/v1/devices", operationID: "listDevices", summary: "Devices", access: .apiKey(.read),
        answers: [.json(200, "Devices", .array(.ref(DeviceView.self)))]
    ) { call in
        json(try await ManageInventory(services: call.services).devices(try call.caller()).map(DeviceView.init))
    }
}
