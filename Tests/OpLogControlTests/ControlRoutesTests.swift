import CoreMetrics
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import OpLog
import OpLogAgent
import OpLogReplication
import Testing

@testable import OpLogControl

/// The control endpoint's routes, through hummingbird's router test framework: what each serves
/// from a status snapshot published on a board.
@Suite struct ControlRoutesTests {
    private func application(board: StatusBoard, metrics: MetricsRegistry = MetricsRegistry()) -> some ApplicationProtocol {
        Application(router: ControlRoutes.router(board: board, metrics: metrics, version: "9.8.7"))
    }

    @Test func statusIsTheDocumentOfTheSnapshot() async throws {
        let board = StatusBoard()
        let status = sampleStatus()
        board.publish(status)
        try await self.application(board: board).test(.router) { client in
            try await client.execute(uri: "/status", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "application/json")
                #expect(response.headers[.cacheControl] == "no-store")
                let bytes = Array(response.body.readableBytesView)
                #expect(bytes == StatusDocument(status, version: "9.8.7").encoded())
            }
        }
    }

    @Test func statusAndHealthWaitForTheFirstSnapshot() async throws {
        try await self.application(board: StatusBoard()).test(.router) { client in
            try await client.execute(uri: "/status", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
            }
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
            }
        }
    }

    @Test(
        "healthz is 200 only when the watcher and the listener run",
        arguments: [(true, true, 200), (false, true, 503), (true, false, 503), (false, false, 503)]
    )
    func health(isWatching: Bool, isListening: Bool, expected: Int) async throws {
        let board = StatusBoard()
        var status = sampleStatus()
        status.health = NodeStatus.Health(isWatching: isWatching, isListening: isListening)
        board.publish(status)
        try await self.application(board: board).test(.router) { client in
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(Int(response.status.code) == expected)
                let text = String(buffer: response.body)
                if expected == 200 {
                    #expect(text == "ok\n")
                } else {
                    #expect(text.contains("watcher") == !isWatching, "\(text)")
                    #expect(text.contains("listener") == !isListening, "\(text)")
                }
            }
        }
    }

    @Test func metricsAreThePrometheusTextOfTheRegistry() async throws {
        let metrics = MetricsRegistry()
        let board = StatusBoard()
        board.publish(sampleStatus())
        // What a node makes with the factory, through swift-metrics.
        Counter(label: "oplog_sync_entries_received_total", factory: metrics.factory).increment(by: 3)
        CoreMetrics.Timer(label: "oplog_sync_fsync_seconds", factory: metrics.factory).recordNanoseconds(2_000_000)
        try await self.application(board: board, metrics: metrics).test(.router) { client in
            try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType]?.hasPrefix("text/plain; version=0.0.4") == true)
                let text = String(buffer: response.body)
                #expect(text.contains("oplog_sync_entries_received_total 3\n"), "\(text)")
                #expect(text.contains("# TYPE oplog_sync_fsync_seconds histogram"), "\(text)")
                #expect(text.contains(#"oplog_sync_fsync_seconds_bucket{le="0.0025"} 1"#), "fsync buckets: \(text)")
                #expect(text.contains(#"oplog_sync_fsync_seconds_bucket{le="0.001"} 0"#), "\(text)")
            }
        }
    }

    /// The page and its two assets, and nothing that points elsewhere.
    @Test func thePageIsServedWithItsOwnAssetsOnly() async throws {
        let board = StatusBoard()
        board.publish(sampleStatus())
        try await self.application(board: board).test(.router) { client in
            let html = try await client.execute(uri: "/", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "text/html; charset=utf-8")
                return String(buffer: response.body)
            }
            #expect(html.contains(#"<link rel="stylesheet" href="/status-page.css">"#))
            #expect(html.contains(#"<script src="/status-page.js"></script>"#))
            let css = try await client.execute(uri: "/status-page.css", method: .get) { response in
                #expect(response.headers[.contentType] == "text/css; charset=utf-8")
                return String(buffer: response.body)
            }
            let script = try await client.execute(uri: "/status-page.js", method: .get) { response in
                #expect(response.headers[.contentType] == "text/javascript; charset=utf-8")
                return String(buffer: response.body)
            }
            #expect(script.contains(#"fetch("/status""#), "the page reads /status")
            #expect(script.contains("refreshMilliseconds = 1000"), "every second")
            #expect(script.contains(#""--accept " + pending.id"#), "a refused ID is shown with the option that admits it")
            for asset in [html, css, script] {
                #expect(!asset.isEmpty)
                #expect(!asset.contains("http://") && !asset.contains("https://") && !asset.contains("//cdn"))
                #expect(!asset.contains("innerHTML"), "values from the node go in as text")
            }
            try await client.execute(uri: "/nothing-here", method: .get) { response in
                #expect(response.status == .notFound)
            }
        }
    }
}

/// A snapshot with one peer of each kind and two sessions.
func sampleStatus() -> NodeStatus {
    let session = try! SessionID(validating: "live-1")
    let other = try! SessionID(validating: "empty")
    return NodeStatus(
        nodeID: NodeID("studio"),
        listen: "127.0.0.1:7420",
        isReadOnly: false,
        peers: [
            NodeStatus.Peer(
                id: NodeID("laptop"),
                address: "127.0.0.1:7501",
                isConnected: true,
                lagEntries: 150_000,
                lagSeconds: 4.25,
                lastSeen: WallClockTime(seconds: 1_800_000_000, nanoseconds: 250_000_000),
                bytesSent: 123_456,
                bytesReceived: 789,
                catchUp: NodeStatus.CatchUp(done: 50_000, total: 200_000, ratePerSecond: 10_000)
            ),
            NodeStatus.Peer(id: NodeID("backup"), address: nil, isConnected: false, lagEntries: 0),
            NodeStatus.Peer(id: nil, address: "127.0.0.1:7600", isConnected: false, lagEntries: 200_000, lagSeconds: 60),
        ],
        pending: [
            NodeStatus.PendingPeer(
                id: "stranger",
                address: "127.0.0.1:55555",
                lastAttempt: Date(timeIntervalSince1970: 1_800_000_000)
            )
        ],
        sessions: [
            NodeStatus.Session(id: session, entries: 200_000, lamportMaximum: 200_001, checkpointSnapshotID: "snap-3"),
            NodeStatus.Session(id: other, entries: 0, lamportMaximum: nil, checkpointSnapshotID: nil),
        ],
        health: NodeStatus.Health(isWatching: true, isListening: true)
    )
}
