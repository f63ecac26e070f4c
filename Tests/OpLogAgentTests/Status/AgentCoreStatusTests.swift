import Foundation
import Logging
import OpLog
import OpLogReplication
import SystemPackage
import Testing

@testable import OpLogAgent

/// The status snapshot the core publishes: what another service reads of a running node,
/// checked against a real session folder (no sockets: a link is registered as a connection's
/// task would register it).
@Suite struct AgentCoreStatusTests {
    private let session = try! SessionID(validating: "live-1")

    private func line(_ id: String, lamport: Int) -> String {
        #"{"op_id":"\#(id)","actor_id":"muse","lamport_ts":\#(lamport),"parent_op_ids":[],"domain":"music","domain_op":{"op":"insert"},"created_at":"2026-12-01T00:00:00Z","intent_id":"","reservation_id":""}"#
    }

    private func makeCore(
        root: FilePath,
        board: StatusBoard,
        admissions: AdmissionBook = AdmissionBook(maximumPending: 64, logInterval: .seconds(60))
    ) throws -> AgentCore {
        let configuration = AgentConfiguration(root: root)
        let folder = try StateFolder(opening: configuration.stateDirectory, opLogFolder: configuration.layout.opLogPath)
        return AgentCore(
            configuration: configuration,
            nodeID: NodeID("studio"),
            listen: PeerAddress(host: "127.0.0.1", port: 7420),
            stateFolder: folder,
            logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() },
            statusBoard: board,
            admissions: admissions
        )
    }

    @Test func theSnapshotShowsSessionsPeersLagAndCounters() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("oplog-status-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let root = FilePath(path)
        let folder = root.appending(".muse/op_log/live-1")
        try FileManager.default.createDirectory(atPath: folder.string, withIntermediateDirectories: true)
        let lines = [
            self.line("uuid-a", lamport: 1), self.line("uuid-b", lamport: 5), "not json", self.line("uuid-c", lamport: 3),
        ]
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: folder.appending("ops.jsonl").string))
        _ = try OpLog(root: root, sessionID: self.session).checkpoint(snapshotID: "snap-1")

        let board = StatusBoard()
        #expect(board.snapshot == nil)
        let core = try self.makeCore(root: root, board: board)
        try await core.start()
        let started = try #require(board.snapshot)
        #expect(started.nodeID == NodeID("studio"))
        #expect(started.listen == "127.0.0.1:7420")
        #expect(!started.isReadOnly)
        #expect(started.peers.isEmpty)
        #expect(
            started.sessions == [
                NodeStatus.Session(id: self.session, entries: 3, lamportMaximum: 5, checkpointSnapshotID: "snap-1")
            ]
        )
        #expect(started.counters.entriesRejected == 1, "the line that is not JSON")

        let laptop = NodeID("laptop")
        let link = LinkHandle(
            peer: laptop,
            reconciliationKey: ReconciliationKey(k0: 1, k1: 2),
            dialer: laptop,
            address: "127.0.0.1:5000",
            outbox: LinkOutbox(budget: 1 << 20),
            close: {}
        )
        #expect(await core.register(link))
        await core.tick()
        let linked = try #require(board.snapshot)
        let peer = try #require(linked.peers.first)
        #expect(linked.peers.count == 1)
        #expect(peer.id == laptop)
        #expect(peer.address == "127.0.0.1:5000")
        #expect(peer.isConnected)
        // Nothing is acknowledged yet: the peer lacks every entry.
        #expect(peer.lagEntries == 3)
        #expect(peer.sessions == [NodeStatus.SessionProgress(session: self.session, acknowledged: 0, lag: 3)])

        await core.unregister(link)
        await core.tick()
        #expect(board.snapshot?.peers.isEmpty == true, "a peer with no link and no recorded progress is not listed")
    }

    @Test func theSnapshotListsRefusedIDsAndCountsRefusalsByReason() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("oplog-status-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let admissions = AdmissionBook(maximumPending: 64, logInterval: .seconds(60))
        let board = StatusBoard()
        let core = try self.makeCore(root: FilePath(path), board: board, admissions: admissions)
        try await core.start()
        #expect(board.snapshot?.pending.isEmpty == true)
        _ = admissions.refused("STRANGER", address: "10.0.0.9:5555", reason: .notAccepted, isPending: true)
        admissions.count(.tlsFailed)
        admissions.count(.tlsFailed)
        await core.tick()
        let status = try #require(board.snapshot)
        #expect(status.pending.map(\.id) == ["STRANGER"])
        #expect(status.pending.first?.address == "10.0.0.9:5555")
        #expect(status.counters.connectionsRefused == [.notAccepted: 1, .tlsFailed: 2])
        #expect(status.peers.isEmpty, "no per-peer state for a refused ID")
    }
}
