import CoreMetrics
import OpLogReplication

/// The node's metrics (DESIGN §8), made with the factory the node is given, so that two nodes
/// in one process keep separate registries. The core updates them from each status snapshot it
/// publishes (``update(from:)``), so they always agree with `/status`; the fsync histogram is
/// recorded where the per-session writer syncs.
///
/// Series and labels; every label set is bounded:
/// - `oplog_sync_entries_received_total`, `oplog_sync_entries_shipped_total`: counters.
/// - `oplog_sync_entries_rejected_total{reason}`: a ``ReplicationRejection/Code`` name or
///   `local_invalid_line`.
/// - `oplog_sync_connections_refused_total{reason}`: a refusal reason (`no_hello`,
///   `protocol_version`, `invalid_node_id`, `own_node_id`, `duplicate_link`, `invalid_hello`).
/// - `oplog_sync_peer_connected{peer}` (1 or 0), `oplog_sync_peer_lag_entries{peer}`,
///   `oplog_sync_peer_lag_seconds{peer}`: gauges for each peer of the snapshot that has a node
///   id, the first ``maximumPeers`` of them in node-id order; a peer that leaves the snapshot
///   loses its series.
/// - `oplog_sync_sessions`: a gauge.
/// - `oplog_sync_fsync_seconds`: a timer (a histogram in Prometheus), one sample per `fdatasync`
///   of peers' lines.
struct NodeMetrics: Sendable {
    /// The most peers with series of their own.
    static let maximumPeers = 256

    private struct PeerGauges: Sendable {
        let connected: Gauge
        let lagEntries: Gauge
        let lagSeconds: Gauge
    }

    private let factory: any MetricsFactory
    let fsyncSeconds: Timer
    private let entriesReceived: Counter
    private let entriesShipped: Counter
    private let entryBytesReceived: Counter
    private let noticesSent: Counter
    private let noticesReceived: Counter
    private let prunesSent: Counter
    private let graftsSent: Counter
    private let reconciliationHashes: Counter
    private let sessions: Gauge
    private var rejected: [String: Counter] = [:]
    private var refused: [String: Counter] = [:]
    private var peers: [NodeID: PeerGauges] = [:]
    /// The counters' totals at the last update, to increment by the difference.
    private var last = NodeStatus.Counters()

    init(factory: any MetricsFactory) {
        self.factory = factory
        self.fsyncSeconds = Timer(label: "oplog_sync_fsync_seconds", factory: factory)
        self.entriesReceived = Counter(label: "oplog_sync_entries_received_total", factory: factory)
        self.entriesShipped = Counter(label: "oplog_sync_entries_shipped_total", factory: factory)
        self.entryBytesReceived = Counter(label: "oplog_sync_entry_bytes_received_total", factory: factory)
        self.noticesSent = Counter(label: "oplog_sync_notices_sent_total", factory: factory)
        self.noticesReceived = Counter(label: "oplog_sync_notices_received_total", factory: factory)
        self.prunesSent = Counter(label: "oplog_sync_prunes_sent_total", factory: factory)
        self.graftsSent = Counter(label: "oplog_sync_grafts_sent_total", factory: factory)
        self.reconciliationHashes = Counter(label: "oplog_sync_reconciliation_hashes_total", factory: factory)
        self.sessions = Gauge(label: "oplog_sync_sessions", factory: factory)
        // The known reasons exist from the start at 0, so a rate over them needs no first event.
        for reason in NodeStatus.RefusalReason.allCases {
            self.refused[reason.rawValue] = Self.counter(
                "oplog_sync_connections_refused_total",
                reason.rawValue,
                factory
            )
        }
        self.rejected[NodeStatus.Counters.localLineRejection] = Self.counter(
            "oplog_sync_entries_rejected_total",
            NodeStatus.Counters.localLineRejection,
            factory
        )
    }

    /// Brings every series to what `status` shows.
    /// - Complexity: O(peers + reasons).
    mutating func update(from status: NodeStatus) {
        let counters = status.counters
        self.entriesReceived.increment(by: max(0, counters.entriesReceived - self.last.entriesReceived))
        self.entriesShipped.increment(by: max(0, counters.entriesShipped - self.last.entriesShipped))
        self.entryBytesReceived.increment(by: max(0, counters.entryBytesReceived - self.last.entryBytesReceived))
        self.noticesSent.increment(by: max(0, counters.noticesSent - self.last.noticesSent))
        self.noticesReceived.increment(by: max(0, counters.noticesReceived - self.last.noticesReceived))
        self.prunesSent.increment(by: max(0, counters.prunesSent - self.last.prunesSent))
        self.graftsSent.increment(by: max(0, counters.graftsSent - self.last.graftsSent))
        self.reconciliationHashes.increment(
            by: max(0, counters.reconciliationHashes - self.last.reconciliationHashes)
        )
        for (reason, count) in counters.entriesRejectedByReason {
            let counter =
                self.rejected[reason] ?? Self.counter("oplog_sync_entries_rejected_total", reason, self.factory)
            self.rejected[reason] = counter
            counter.increment(by: max(0, count - (self.last.entriesRejectedByReason[reason] ?? 0)))
        }
        for (reason, count) in counters.connectionsRefused {
            let counter =
                self.refused[reason.rawValue]
                ?? Self.counter("oplog_sync_connections_refused_total", reason.rawValue, self.factory)
            self.refused[reason.rawValue] = counter
            counter.increment(by: max(0, count - (self.last.connectionsRefused[reason] ?? 0)))
        }
        self.last = counters
        self.sessions.record(status.sessions.count)

        let shown = status.peers.lazy.compactMap { peer in peer.id.map { (id: $0, peer: peer) } }
            .prefix(Self.maximumPeers)
        var seen = Set<NodeID>()
        for (id, peer) in shown {
            seen.insert(id)
            let gauges = self.peers[id] ?? self.makeGauges(for: id)
            self.peers[id] = gauges
            gauges.connected.record(peer.isConnected ? 1 : 0)
            gauges.lagEntries.record(peer.lagEntries)
            gauges.lagSeconds.record(peer.lagSeconds)
        }
        for (id, gauges) in self.peers where !seen.contains(id) {
            gauges.connected.destroy()
            gauges.lagEntries.destroy()
            gauges.lagSeconds.destroy()
            self.peers[id] = nil
        }
    }

    private func makeGauges(for peer: NodeID) -> PeerGauges {
        let dimensions = [("peer", peer.rawValue)]
        return PeerGauges(
            connected: Gauge(label: "oplog_sync_peer_connected", dimensions: dimensions, factory: self.factory),
            lagEntries: Gauge(label: "oplog_sync_peer_lag_entries", dimensions: dimensions, factory: self.factory),
            lagSeconds: Gauge(label: "oplog_sync_peer_lag_seconds", dimensions: dimensions, factory: self.factory)
        )
    }

    private static func counter(_ label: String, _ reason: String, _ factory: any MetricsFactory) -> Counter {
        Counter(label: label, dimensions: [("reason", reason)], factory: factory)
    }
}
