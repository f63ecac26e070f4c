import Logging
import OpLog
import OpLogIdentity
import OpLogReplication

// The status snapshot: what another service may read of the node at any time, and the metrics
// and catch-up lines that follow from it.
extension AgentCore {
    /// Publishes the node's status to its ``StatusBoard`` and brings the metrics to it.
    ///
    /// Peers: every connected peer, every peer with recorded progress and every peer a
    /// configured address answered as (in node-id order), with what it acknowledged of each
    /// session, how many entries it lacks and since when, its traffic and its catch-up; then the
    /// configured addresses whose node has not answered, lacking every entry. Sessions: each with
    /// its entries, `lamport_ts` maximum and checkpoint. Then the refused IDs that dialled in
    /// (``NodeStatus/pending``), the counters and the health of the watcher and the listener.
    ///
    /// - Complexity: O(peers × sessions); called on a tick when something changed (see
    ///   ``publishStatusIfDue()``), and at once for health.
    func publishStatus() {
        let now = self.now
        self.status.lastPublished = now
        self.status.isStale = false
        self.status.refusalsPublished = self.admissions.totalRefusals
        if self.engine.sessionCount != self.status.sortedSessionCount {
            self.status.sortedSessions = self.engine.knownSessions
            self.status.sortedSessionCount = self.status.sortedSessions.count
        }
        let sessions = self.status.sortedSessions
        let counts = sessions.map { UInt64(self.engine.durableCount(of: $0)) }
        var peerIDs = Set(self.links.connectedPeers)
        peerIDs.formUnion(self.progress.acknowledged.keys)
        peerIDs.formUnion(self.status.peers.answeredPeers)
        var peers = peerIDs.sorted().map { peer in
            let link = self.links.link(to: peer)
            // Only what the peer is sent counts: a session its rules do not share, or a peer
            // that takes nothing, is never acknowledged and is not lag.
            let rules = link?.rules ?? self.configuredRules(of: peer)
            var lag: UInt64 = 0
            var shipped: UInt64 = 0
            var oldest: Duration?
            let progress = zip(sessions, counts).filter { session, _ in rules.sends(session) }.map { session, count in
                shipped += count
                let acknowledged = min(self.engine.acknowledgedSequence(of: peer, session: session), count)
                lag += count - acknowledged
                if acknowledged < count {
                    let since = self.status.timeline.durableTime(of: session, sequence: acknowledged + 1) ?? now
                    oldest = min(oldest ?? since, since)
                }
                return NodeStatus.SessionProgress(
                    session: session,
                    acknowledged: acknowledged,
                    lag: count - acknowledged
                )
            }
            let traffic = self.status.peers.traffic(of: peer, current: link?.traffic)
            return NodeStatus.Peer(
                id: peer,
                address: self.status.peers.address(of: peer),
                isConnected: link != nil,
                sessions: progress,
                lagEntries: lag,
                lagSeconds: oldest.map { Self.roundedSeconds(now - $0) } ?? 0,
                lastSeen: traffic.lastReceived,
                bytesSent: traffic.bytesSent,
                bytesReceived: traffic.bytesReceived,
                catchUp: link == nil ? nil : self.followCatchUp(of: peer, done: shipped - lag, total: shipped, now: now)
            )
        }
        // A configured peer whose address has not answered: listed with its configured ID
        // (unless a link it dialled in on lists it already), lacking every entry it is sent.
        for address in self.status.peers.unansweredAddresses {
            let id = self.configuration.peers.first { $0.address == address }?.id.nodeID
            if let id, peerIDs.contains(id) { continue }
            let rules = id.map { self.configuredRules(of: $0) } ?? .everything
            let shared = zip(sessions, counts).filter { session, _ in rules.sends(session) }
            let oldestEntry = shared.compactMap { session, count in
                count == 0 ? nil : (self.status.timeline.durableTime(of: session, sequence: 1) ?? now)
            }.min()
            peers.append(
                NodeStatus.Peer(
                    id: id,
                    address: address.description,
                    isConnected: false,
                    sessions: shared.map { NodeStatus.SessionProgress(session: $0, acknowledged: 0, lag: $1) },
                    lagEntries: shared.reduce(0) { $0 + $1.1 },
                    lagSeconds: oldestEntry.map { Self.roundedSeconds(now - $0) } ?? 0
                )
            )
        }
        let status = NodeStatus(
            nodeID: self.nodeID,
            listen: "\(self.status.listen)",
            isReadOnly: self.configuration.isReadOnly,
            peers: peers,
            pending: self.admissions.pending,
            sessions: zip(sessions, counts).map { session, count in
                NodeStatus.Session(
                    id: session,
                    entries: Int(count),
                    lamportMaximum: self.files.lamportMaxima[session],
                    checkpointSnapshotID: self.files.checkpointSnapshots[session]
                )
            },
            counters: self.counters(),
            health: self.status.health
        )
        self.status.board.publish(status)
        self.status.metrics.update(from: status)
    }

    /// Publishes the status on a tick when the engine acted on anything, a session was read or
    /// written, or a connection was refused since the last snapshot, or the last one is
    /// ``idleStatusInterval`` old (so that lag in seconds and traffic move on while nothing else
    /// does). An idle node with a thousand sessions does not rebuild its snapshot ten times a
    /// second.
    func publishStatusIfDue() {
        let isDue =
            self.status.isStale || self.admissions.totalRefusals != self.status.refusalsPublished
            || self.status.lastPublished.map { self.now - $0 >= Self.idleStatusInterval } ?? true
        if isDue { self.publishStatus() }
    }

    /// How old the status may grow on an idle node.
    static let idleStatusInterval: Duration = .seconds(1)

    /// The rules of a peer without a link: its `peers:` entry's, else everything.
    private func configuredRules(of peer: NodeID) -> PeerRules {
        guard let id = try? NodeFingerprint(parsing: peer.rawValue),
            let configured = self.configuration.rules(for: id)
        else { return .everything }
        return PeerRules(sessions: configured.sessions, receives: configured.isReceiving)
    }

    /// The node's running totals.
    private func counters() -> NodeStatus.Counters {
        let statistics = self.engine.statistics
        var counters = NodeStatus.Counters()
        counters.entriesReceived = statistics.entriesReceived
        counters.entriesWritten = statistics.entriesWritten
        counters.entriesShipped = statistics.entriesShipped
        counters.entryBytesReceived = statistics.entryBytesReceived
        counters.noticesSent = statistics.noticesSent
        counters.noticesReceived = statistics.noticesReceived
        counters.prunesSent = statistics.prunesSent
        counters.graftsSent = statistics.graftsSent
        counters.reconciliationHashes = statistics.reconciliationHashes
        counters.entriesRejected = statistics.entriesRejected + self.files.rejectedLines
        counters.entriesRejectedByReason = self.status.rejectedByReason
        counters.messagesRejected = statistics.messagesRejected
        counters.duplicatesIgnored = statistics.duplicatesIgnored
        counters.orphansWritten = statistics.orphansWritten
        counters.conflictingEntries = self.files.reportedConflicts.count
        counters.connectionsRefused = self.admissions.refusals
        return counters
    }

    /// Feeds the connected peer's position to the catch-up tracker, logs what it says
    /// ("peer catching up" at the start and every 2 s, "peer caught up" once), and
    /// returns the catch-up to show.
    private func followCatchUp(of peer: NodeID, done: UInt64, total: UInt64, now: Duration) -> NodeStatus.CatchUp? {
        switch self.status.catchUp.observe(peer, done: done, total: total, now: now) {
        case .quiet:
            break
        case .catchingUp(let done, let total, let rate):
            var metadata: Logger.Metadata = ["peer": "\(peer)", "done": "\(done)", "total": "\(total)"]
            if let rate { metadata["per_second"] = "\(Int(rate.rounded()))" }
            self.logger.info("peer catching up", metadata: metadata)
        case .caughtUp(let total):
            self.logger.info("peer caught up", metadata: ["peer": "\(peer)", "entries": "\(total)"])
        }
        return self.status.catchUp.catchUp(of: peer)
    }

    /// Seconds to the millisecond, never negative.
    private static func roundedSeconds(_ duration: Duration) -> Double {
        max(0, (duration.inSeconds * 1000).rounded() / 1000)
    }

    // MARK: What services report

    /// A connection was closed before its link was registered; counted by reason.
    func connectionRefused(_ reason: NodeStatus.RefusalReason) {
        self.admissions.count(reason)
    }

    /// The session watcher started or stopped running; published at once (`/healthz`).
    func watcherRuns(_ isRunning: Bool) {
        self.status.health.isWatching = isRunning
        self.publishStatus()
    }

    /// The listener started or stopped accepting; published at once (`/healthz`).
    func listenerRuns(_ isRunning: Bool) {
        self.status.health.isListening = isRunning
        self.publishStatus()
    }

    /// Notes when the entries the engine just numbered became durable here (now), for the lag
    /// in seconds.
    func noteDurable(_ session: SessionID, firstSequence: UInt64, count: Int) {
        guard count > 0 else { return }
        self.status.timeline.noteDurable(session, through: firstSequence + UInt64(count) - 1, at: self.now)
    }

    /// Starts the durability timeline afresh at the end of ``start()``: every entry in the files
    /// then counts as durable since the start.
    func startTimeline() {
        self.status.timeline = DurabilityTimeline()
        for session in self.engine.knownSessions {
            let count = UInt64(self.engine.durableCount(of: session))
            if count > 0 { self.status.timeline.noteDurable(session, through: count, at: .zero) }
        }
    }
}
