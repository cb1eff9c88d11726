import Foundation
import Prometheus

/// The server's Prometheus metrics: requests, Apple calls by outcome, jobs, syncs and licence operations.
final class ServerMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()

    func request(method: String, route: String, status: Int, seconds: Double) {
        registry.makeCounter(name: "vpp_http_requests_total", labels: [("method", method), ("route", route), ("status", "\(status)")]).increment()
        registry.makeValueHistogram(name: "vpp_http_request_duration_seconds", labels: [("route", route)],
                                    buckets: [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]).record(seconds)
        if route.contains("licenses"), method != "GET" {
            registry.makeCounter(name: "vpp_licence_operations_total", labels: [("operation", method == "POST" ? "assign" : "revoke"),
                                                                                ("status", "\(status)")]).increment()
        }
    }

    var appleCall: @Sendable (String, String) -> Void {
        { [registry] endpoint, outcome in
            registry.makeCounter(name: "vpp_apple_calls_total", labels: [("endpoint", endpoint), ("outcome", outcome)]).increment()
        }
    }

    func job(kind: String, outcome: String) {
        registry.makeCounter(name: "vpp_jobs_total", labels: [("kind", kind), ("outcome", outcome)]).increment()
        if kind == "sync" { registry.makeCounter(name: "vpp_syncs_total", labels: [("outcome", outcome)]).increment() }
    }

    func queueDepth(_ depth: Int) { registry.makeGauge(name: "vpp_job_queue_depth").set(to: Double(depth)) }

    func render() -> String { registry.emitToString() }
}
