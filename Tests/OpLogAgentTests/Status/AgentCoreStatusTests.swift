import Foundation
import Logging
import OpLog
import OpLogIdentity
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
        peers: [PeerAddress] = [],
        admissions: AdmissionBook = AdmissionBook(maximumPending: 64, logInterval: .seconds(60))
    ) throws -> AgentCore {
        var configuration = AgentConfiguration(root: root)
        // Only the addresses matter here: the status lists configured addresses.
        configuration.peers = peers.map { address in
            PeerConfiguration(id: NodeFingerprint(certificateDER: Array("\(address)".utf8)), address: address)
        }
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

    /// A root whose session `live-1` holds `lines`, removed after `body`.
    private func withSession<T>(_ lines: [String], _ body: (FilePath) async throws -> T) async throws -> T {
        try await withAsyncScratchFolder { root in
            let folder = root.appending(".muse/op_log/live-1")
            try FileManager.default.createDirectory(atPath: folder.string, withIntermediateDirectories: true)
            try Data((lines.joined(separator: "\n") + "\n").utf8).write(
                to: URL(fileURLWithPath: folder.appending("ops.jsonl").string)
            )
            return try await body(root)
        }
    }

    @Test func theSnapshotShowsSessionsPeersLagAndCounters() async throws {
        let lines = [
            self.line("uuid-a", lamport: 1), self.line("uuid-b", lamport: 5), "not json", self.line("uuid-c", lamport: 3),
        ]
        try await self.withSession(lines) { root in try await self.snapshotShowsSessionsPeersLagAndCounters(root: root) }
    }

    private func snapshotShowsSessionsPeersLagAndCounters(root: FilePath) async throws {
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

extension AgentCoreStatusTests {
    /// Every configured address is listed, its node known or not: one that never answered as an
    /// id-less row lacking every entry, one that answered under its node's id at the configured
    /// address, with the traffic of its links (kept across links) and when it was last heard.
    @Test func configuredPeersAreListedConnectedOrNot() async throws {
        let lines = [self.line("uuid-a", lamport: 1), self.line("uuid-b", lamport: 2)]
        try await self.withSession(lines) { root in try await self.configuredPeersAreListed(root: root) }
    }

    private func configuredPeersAreListed(root: FilePath) async throws {
        let silent = PeerAddress(host: "127.0.0.1", port: 9)
        let laptopAddress = PeerAddress(host: "127.0.0.1", port: 7501)
        let board = StatusBoard()
        let core = try self.makeCore(root: root, board: board, peers: [silent, laptopAddress])
        try await core.start()
        let started = try #require(board.snapshot)
        #expect(started.peers.map(\.address) == ["127.0.0.1:9", "127.0.0.1:7501"], "in the order configured")
        // Listed with the IDs configured for them, which have not answered.
        let configuredID = { (address: PeerAddress) in NodeFingerprint(certificateDER: Array("\(address)".utf8)).nodeID }
        #expect(started.peers.map(\.id) == [configuredID(silent), configuredID(laptopAddress)])
        for peer in started.peers {
            #expect(!peer.isConnected)
            #expect(peer.lagEntries == 2, "no node answered: it lacks every entry as far as this node knows")
            #expect(peer.lastSeen == nil)
        }

        let laptop = NodeID("laptop")
        let first = LinkHandle(
            peer: laptop,
            reconciliationKey: ReconciliationKey(k0: 1, k1: 2),
            dialer: NodeID("studio"),
            address: "127.0.0.1:7501",
            dialled: laptopAddress,
            outbox: LinkOutbox(budget: 1 << 20),
            close: {}
        )
        first.traffic.noteSent(100)
        first.traffic.noteReceived(40, at: WallClockTime(seconds: 1_800_000_000, nanoseconds: 0))
        #expect(await core.register(first))
        await core.tick()
        let linked = try #require(board.snapshot)
        #expect(
            linked.peers.map(\.id) == [laptop, configuredID(silent)],
            "the node that answered, then the address that did not"
        )
        let peer = linked.peers[0]
        #expect(peer.address == "127.0.0.1:7501")
        #expect(peer.isConnected)
        #expect(peer.bytesSent == 100 && peer.bytesReceived == 40)
        #expect(peer.lastSeen == WallClockTime(seconds: 1_800_000_000, nanoseconds: 0))
        #expect(linked.peers[1].address == "127.0.0.1:9")

        await core.unregister(first)
        let second = LinkHandle(
            peer: laptop,
            reconciliationKey: ReconciliationKey(k0: 1, k1: 2),
            dialer: laptop,
            address: "127.0.0.1:40000",
            outbox: LinkOutbox(budget: 1 << 20),
            close: {}
        )
        second.traffic.noteSent(1)
        #expect(await core.register(second))
        await core.tick()
        let relinked = try #require(board.snapshot?.peers.first)
        #expect(relinked.address == "127.0.0.1:7501", "the configured address, not the one it dialled in from")
        #expect(relinked.bytesSent == 101, "the traffic of both links")
        #expect(relinked.bytesReceived == 40)

        await core.unregister(second)
        await core.tick()
        let gone = try #require(board.snapshot)
        #expect(
            gone.peers.map(\.id) == [laptop, configuredID(silent)],
            "a configured peer stays listed when its link goes"
        )
        #expect(gone.peers[0].isConnected == false)
        #expect(gone.peers[0].bytesSent == 101)
    }

    /// The health follows the watcher and the listener; `pending` starts empty.
    @Test func healthFollowsTheServices() async throws {
        try await withAsyncScratchFolder { root in
            let board = StatusBoard()
            let core = try self.makeCore(root: root, board: board)
            try await core.start()
            #expect(board.snapshot?.health == NodeStatus.Health(isWatching: false, isListening: false))
            #expect(board.snapshot?.pending == [])
            await core.watcherRuns(true)
            #expect(board.snapshot?.health.isHealthy == false)
            await core.listenerRuns(true)
            #expect(board.snapshot?.health.isHealthy == true)
            await core.watcherRuns(false)
            #expect(board.snapshot?.health == NodeStatus.Health(isWatching: false, isListening: true))
        }
    }
}
