import Foundation
import Prometheus

/// The server's Prometheus metrics: requests, Apple calls by outcome, jobs, syncs and licence operations.
final class ServerMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()

    private static func name(_ metric: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "vpp", metricName: metric, unitName: "", helpText: help)
    }

    func request(method: String, route: String, status: Int, seconds: Double) {
        registry.makeCounter(
            descriptor: Self.name("http_requests_total", "HTTP requests by route and status"),
            labels: [("method", method), ("route", route), ("status", "\(status)")]
        ).increment()
        registry.makeValueHistogram(
            descriptor: Self.name("http_request_duration_seconds", "HTTP request latency"),
            labels: [("route", route)],
            buckets: [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
        ).record(seconds)
        if route.contains("licenses"), method != "GET" {
            registry.makeCounter(
                descriptor: Self.name("licence_operations_total", "Licence assignments and revocations requested"),
                labels: [("operation", method == "POST" ? "assign" : "revoke"), ("status", "\(status)")]
            ).increment()
        }
    }

    var appleCall: @Sendable (String, String) -> Void {
        { [registry] endpoint, outcome in
            registry.makeCounter(
                descriptor: ServerMetrics.name("apple_calls_total", "Calls to Apple by endpoint and outcome"),
                labels: [("endpoint", endpoint), ("outcome", outcome)]
            ).increment()
        }
    }

    func job(kind: String, outcome: String) {
        registry.makeCounter(
            descriptor: Self.name("jobs_total", "Background jobs by kind and outcome"),
            labels: [("kind", kind), ("outcome", outcome)]
        ).increment()
        if kind == "sync" {
            registry.makeCounter(
                descriptor: Self.name("syncs_total", "Token syncs by outcome"),
                labels: [("outcome", outcome)]
            ).increment()
        }
    }

    func queueDepth(_ depth: Int) {
        registry.makeGauge(descriptor: Self.name("job_queue_depth", "Jobs queued or running")).set(to: Double(depth))
    }

    func render() -> String { registry.emitToString() }
}
