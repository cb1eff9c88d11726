import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import NIOFoundationCompat
import VPPDomain
import VPPUseCases

/// Devices' status reports read back from KMFDDM (jessepeterson/kmfddm `http/api/status.go`, `docs/openapi.yaml`):
/// `GET {url}/v1/status-report/{enrollmentId}?index=N` answers the raw report the device sent (index 0 the newest,
/// 1 the one before, …) with `Last-Modified` (when KMFDDM received it), `X-Status-Report-Index` and, when the
/// report had one, `X-Status-Report-ID`; `404` (`{"error": …}`) when there is none. KMFDDM's storage backends
/// answer `500` for an index past the oldest they keep (its file storage keeps only the newest), so any answer
/// other than 200 for an older index ends the walk back rather than failing the read.
public struct KMFDDMStatusReader: DeclarationStatusReader {
    let server: KMFDDMServer

    public init(url: String, apiKey: String, client: HTTPClient, timeout: TimeAmount = .seconds(15)) {
        server = KMFDDMServer(url: url, apiKey: apiKey, client: client, timeout: timeout)
    }

    public func reports(enrollmentID: String, after: String?, notBefore: Date?, limit: Int) async -> StatusReportRead {
        guard let id = try? EnrollmentID(enrollmentID) else {
            return .failed("enrollment id \"\(enrollmentID.prefix(60))\" has not the documented shape")
        }
        var found: [StoredStatusReport] = []
        for index in 0..<max(1, limit) {
            let answer: Answer
            do {
                answer = try await fetch(id, index: index)
            } catch {
                if index == 0 { return .failed("KMFDDM unreachable: \(String(describing: error).prefix(200))") }
                break
            }
            switch answer {
            case .report(let report):
                // Walked back to the newest report already recorded, or to reports from before the joins.
                if report.fingerprint == after { return .reports(found) }
                if let notBefore, let received = report.receivedAt, received < notBefore.addingTimeInterval(-2) {
                    return .reports(found)
                }
                found.append(report)
            case .missing:
                return index == 0 ? .none : .reports(found)
            case .refused(let reason):
                if index == 0 { return .failed(reason) }
                return .reports(found)
            }
        }
        return .reports(found)
    }

    enum Answer {
        case report(StoredStatusReport)
        case missing
        case refused(String)
    }

    func fetch(_ id: EnrollmentID, index: Int) async throws -> Answer {
        let request = server.request(.GET, "/v1/status-report/\(id.pathSegment)?index=\(index)")
        let response = try await server.execute(request)
        let body = Data(buffer: try await response.body.collect(upTo: 4 << 20))
        switch response.status.code {
        case 200:
            let lastModified = response.headers.first(name: "Last-Modified")
            let reportID = response.headers.first(name: "X-Status-Report-ID") ?? ""
            var hash = SHA256()
            hash.update(data: Data("\(reportID)\n\(lastModified ?? "")\n".utf8))
            hash.update(data: body)
            let fingerprint = Array(hash.finalize()).lowercaseHex
            return .report(
                StoredStatusReport(
                    report: body,
                    fingerprint: fingerprint,
                    receivedAt: lastModified.flatMap(Self.httpDate)
                )
            )
        case 404:
            return .missing
        case 401, 403:
            return .refused("KMFDDM refused the API key (HTTP \(response.status.code))")
        default:
            let text = String(decoding: body.prefix(200), as: UTF8.self)
            return .refused("KMFDDM answered HTTP \(response.status.code) \(text)")
        }
    }

    /// An HTTP date (`Mon, 07 Dec 2026 01:02:03 GMT`, what Go's `http.TimeFormat` writes).
    static func httpDate(_ text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return formatter.date(from: text)
    }
}
