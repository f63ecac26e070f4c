import MetricsTestKit
import OpLog
import OpLogReplication
import Testing

@testable import OpLogAgent

/// The node's metrics follow its status snapshots: counters by the difference, gauges per peer
/// with a node id, series gone with their peer, labels only from bounded sets.
@Suite struct NodeMetricsTests {
    private let session = try! SessionID(validating: "live-1")

    private func status(peers: [NodeStatus.Peer], received: Int, rejected: [String: Int] = [:]) -> NodeStatus {
        var counters = NodeStatus.Counters()
        counters.entriesReceived = received
        counters.entriesShipped = 2 * received
        counters.entryBytesReceived = 300 * received
        counters.noticesSent = 3 * received
        counters.noticesReceived = 4 * received
        counters.prunesSent = received - 1
        counters.graftsSent = received / 2
        counters.reconciliationHashes = 10 * received
        counters.entriesRejectedByReason = rejected
        counters.connectionsRefused = [.ownNodeID: received]
        return NodeStatus(
            nodeID: NodeID("studio"),
            listen: "127.0.0.1:7420",
            isReadOnly: false,
            peers: peers,
            sessions: [NodeStatus.Session(id: self.session, entries: 3, lamportMaximum: 3, checkpointSnapshotID: nil)],
            counters: counters
        )
    }

    @Test func seriesFollowTheSnapshots() throws {
        let factory = TestMetrics()
        var metrics = NodeMetrics(factory: factory)
        // Known refusal reasons and local rejections exist from the start.
        #expect(try factory.expectCounter("oplog_sync_connections_refused_total", [("reason", "no_hello")]).totalValue == 0)
        #expect(try factory.expectCounter("oplog_sync_entries_rejected_total", [("reason", "local_invalid_line")]).totalValue == 0)

        let laptop = NodeStatus.Peer(id: NodeID("laptop"), address: "127.0.0.1:7501", isConnected: true, lagEntries: 0)
        let backup = NodeStatus.Peer(
            id: NodeID("backup"),
            address: nil,
            isConnected: false,
            lagEntries: 7,
            lagSeconds: 12.5
        )
        let unanswered = NodeStatus.Peer(id: nil, address: "127.0.0.1:7600", isConnected: false, lagEntries: 3)
        metrics.update(from: self.status(peers: [backup, laptop, unanswered], received: 5, rejected: ["invalid_entry": 1]))
        metrics.update(from: self.status(peers: [backup, laptop, unanswered], received: 8, rejected: ["invalid_entry": 4]))

        #expect(try factory.expectCounter("oplog_sync_entries_received_total").totalValue == 8, "by the difference")
        #expect(try factory.expectCounter("oplog_sync_entries_shipped_total").totalValue == 16)
        #expect(try factory.expectCounter("oplog_sync_entry_bytes_received_total").totalValue == 2_400)
        #expect(try factory.expectCounter("oplog_sync_notices_sent_total").totalValue == 24)
        #expect(try factory.expectCounter("oplog_sync_notices_received_total").totalValue == 32)
        #expect(try factory.expectCounter("oplog_sync_prunes_sent_total").totalValue == 7)
        #expect(try factory.expectCounter("oplog_sync_grafts_sent_total").totalValue == 4)
        #expect(try factory.expectCounter("oplog_sync_reconciliation_hashes_total").totalValue == 80)
        #expect(try factory.expectCounter("oplog_sync_entries_rejected_total", [("reason", "invalid_entry")]).totalValue == 4)
        #expect(try factory.expectCounter("oplog_sync_connections_refused_total", [("reason", "own_node_id")]).totalValue == 8)
        #expect(try factory.expectGauge("oplog_sync_sessions").lastValue == 1)
        #expect(try factory.expectGauge("oplog_sync_peer_connected", [("peer", "laptop")]).lastValue == 1)
        #expect(try factory.expectGauge("oplog_sync_peer_connected", [("peer", "backup")]).lastValue == 0)
        #expect(try factory.expectGauge("oplog_sync_peer_lag_entries", [("peer", "backup")]).lastValue == 7)
        #expect(try factory.expectGauge("oplog_sync_peer_lag_seconds", [("peer", "backup")]).lastValue == 12.5)
        #expect(try factory.expectGauge("oplog_sync_peer_lag_seconds", [("peer", "laptop")]).lastValue == 0)
        #expect(factory.recorders(label: "oplog_sync_peer_connected").count == 2, "no series for a peer without an id")

        metrics.update(from: self.status(peers: [laptop], received: 8))
        #expect(factory.recorders(label: "oplog_sync_peer_connected", dimensions: [("peer", "backup")]).isEmpty)
        #expect(factory.recorders(label: "oplog_sync_peer_lag_entries", dimensions: [("peer", "backup")]).isEmpty)
        #expect(factory.recorders(label: "oplog_sync_peer_lag_seconds", dimensions: [("peer", "backup")]).isEmpty)
        #expect(try factory.expectCounter("oplog_sync_entries_received_total").totalValue == 8)
    }

    @Test func noLabelCarriesASession() {
        let factory = TestMetrics()
        var metrics = NodeMetrics(factory: factory)
        let peer = NodeStatus.Peer(id: NodeID("laptop"), address: nil, isConnected: true, lagEntries: 1)
        metrics.update(from: self.status(peers: [peer], received: 1, rejected: ["invalid_entry": 1]))
        let labelNames = Set(
            factory.counters.flatMap { $0.dimensions.map(\.0) } + factory.recorders.flatMap { $0.dimensions.map(\.0) }
        )
        #expect(labelNames == ["peer", "reason"])
        let values = factory.counters.flatMap { $0.dimensions.map(\.1) } + factory.recorders.flatMap { $0.dimensions.map(\.1) }
        #expect(!values.contains("live-1"))
    }

    @Test func atMostTheCapOfPeersGetSeries() {
        let factory = TestMetrics()
        var metrics = NodeMetrics(factory: factory)
        let peers = (0..<(NodeMetrics.maximumPeers + 10)).map { index in
            NodeStatus.Peer(id: NodeID("peer-\(1000 + index)"), address: nil, isConnected: false, lagEntries: 1)
        }
        metrics.update(from: self.status(peers: peers, received: 0))
        #expect(factory.recorders(label: "oplog_sync_peer_lag_entries").count == NodeMetrics.maximumPeers)
    }
}
