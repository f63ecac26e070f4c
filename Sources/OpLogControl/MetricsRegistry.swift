public import CoreMetrics
import Prometheus

/// A node's own Prometheus registry: the factory its metrics are made with, and their text
/// exposition for `GET /metrics`.
///
/// One per node, never the global `MetricsSystem`, so two nodes in one process (a test) keep
/// apart. `oplog_sync_fsync_seconds` gets buckets from 100 µs to 2.5 s, where a disk's
/// `fdatasync` falls; every other timer keeps swift-prometheus's defaults.
public struct MetricsRegistry: Sendable {
    private let registry: PrometheusCollectorRegistry
    private let prometheus: PrometheusMetricsFactory

    public init() {
        self.registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: self.registry)
        factory.durationHistogramBuckets["oplog_sync_fsync_seconds"] = [
            .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .microseconds(2500),
            .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
            .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500),
        ]
        self.prometheus = factory
    }

    /// What the node makes its metrics with.
    public var factory: any MetricsFactory { self.prometheus }

    /// Every series in Prometheus's text format (version 0.0.4).
    /// - Complexity: O(series).
    public func exposition() -> [UInt8] {
        self.registry.emitToBuffer()
    }
}
