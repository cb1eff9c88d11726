import Foundation
import Testing
import VPPDomain
import VPPTestSupport
import VPPUseCases

@testable import VPPHTTPAPI

/// The contract is one source (``APIContract``): these tests prove that what the server routes, what the
/// document says and what the types encode are the same thing.
@Suite("API contract: one source for routes, document and types")
struct ContractTests {
    @Test("every documented operation is routed (a request reaches it, not 404/405), and every route is documented")
    func everyOperationRouted() async throws {
        let documented = Set(OpenAPIShapes.operations())
        #expect(documented == Set(APIRouter.routes), "\(documented.symmetricDifference(APIRouter.routes))")
        #expect(Set(APIContract.operations.map(\.operationID)).count == APIContract.operations.count, "unique ids")
        try await withAPI(.sqlite) { api in
            for operation in APIContract.operations {
                let path = operation.path.replacingOccurrences(
                    of: #"\{adamId\}"#,
                    with: "408709785",
                    options: .regularExpression
                ).replacingOccurrences(of: #"\{[A-Za-z]+\}"#, with: UUID().uuidString, options: .regularExpression)
                let answer = try await api.call(operation.method.rawValue, path, raw: Data("{}".utf8))
                #expect(
                    answer.errorCode != "route_not_found" && answer.status != 405,
                    "\(operation.route) is documented but not routed: \(answer.status) \(answer.text)"
                )
            }
        }
    }

    @Test("every type's samples, sent and answered on a real walk of the API, validate against its schema")
    func samplesMatchSchemas() async throws {
        let samples = try await withAPI(.sqlite) { api in
            try JSONSerialization.data(withJSONObject: try await ContractWalk(api: api).run())
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("vpp-contract-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let document = directory.appendingPathComponent("openapi.json")
        let samplesFile = directory.appendingPathComponent("samples.json")
        try Data(OpenAPIDocument.yaml.utf8).write(to: document)
        try samples.write(to: samplesFile)
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let (status, output) = try runPython([
            root.appendingPathComponent("Scripts/fuzz/validate_samples.py").path, document.path, samplesFile.path,
        ])
        #expect(status == 0, "\(output)")
        #expect(output.contains(" 0 failures"), "\(output)")
    }

    @Test("a schema catches drift: a field the type has and the schema lacks fails validation")
    func driftIsCaught() throws {
        let samples: [[String: Any]] = [
            ["schema": "Status", "value": ["status": "ok", "surprise": 1], "source": "drifted"]
        ]
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("vpp-drift-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try Data(OpenAPIDocument.yaml.utf8).write(to: directory.appendingPathComponent("d.json"))
        try JSONSerialization.data(withJSONObject: samples).write(to: directory.appendingPathComponent("s.json"))
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let (status, output) = try runPython([
            root.appendingPathComponent("Scripts/fuzz/validate_samples.py").path,
            directory.appendingPathComponent("d.json").path, directory.appendingPathComponent("s.json").path,
        ])
        #expect(status != 0 && output.contains("surprise"), "\(output)")
    }
}

func runPython(_ arguments: [String]) throws -> (Int32, String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3"] + arguments
    let output = Pipe()
    process.standardOutput = output
    process.standardError = output
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}
