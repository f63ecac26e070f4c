import OpLog
import OpLogReplication

// The status snapshot: what another service may read of the node at any time.
extension AgentCore {
    /// Publishes the node's status to its ``StatusBoard``: every connected peer and every peer
    /// with recorded progress (in node-id order), with what it acknowledged of each session and
    /// how many entries it lacks; every session with its entries, `lamport_ts` maximum and
    /// checkpoint; the counters; the refused IDs that dialled in (``NodeStatus/pending``).
    ///
    /// - Complexity: O(peers × sessions); called on every tick.
    func publishStatus() {
        let sessions = self.engine.knownSessions
        let counts = sessions.map { UInt64(self.engine.durableCount(of: $0)) }
        var peerIDs = Set(self.links.connectedPeers)
        peerIDs.formUnion(self.progress.acknowledged.keys)
        let peers = peerIDs.sorted().map { peer in
            let link = self.links.link(to: peer)
            var lag: UInt64 = 0
            let progress = zip(sessions, counts).map { session, count in
                let acknowledged = min(self.engine.acknowledgedSequence(of: peer, session: session), count)
                lag += count - acknowledged
                return NodeStatus.SessionProgress(
                    session: session,
                    acknowledged: acknowledged,
                    lag: count - acknowledged
                )
            }
            let catchUp = self.status.catchUp.points[peer].map { point in
                NodeStatus.CatchUp(
                    done: point.done,
                    total: counts.reduce(0, +),
                    ratePerSecond: point.ratePerSecond
                )
            }
            return NodeStatus.Peer(
                id: peer,
                address: link?.address,
                isConnected: link != nil,
                sessions: progress,
                lagEntries: lag,
                catchUp: catchUp
            )
        }
        let statistics = self.engine.statistics
        var counters = NodeStatus.Counters()
        counters.entriesReceived = statistics.entriesReceived
        counters.entriesWritten = statistics.entriesWritten
        counters.entriesShipped = statistics.entriesShipped
        counters.entriesRejected = statistics.entriesRejected + self.files.rejectedLines
        counters.messagesRejected = statistics.messagesRejected
        counters.duplicatesIgnored = statistics.duplicatesIgnored
        counters.orphansWritten = statistics.orphansWritten
        counters.conflictingEntries = self.files.reportedConflicts.count
        counters.connectionsRefused = self.admissions.refusals
        self.status.board.publish(
            NodeStatus(
                nodeID: self.nodeID,
                listen: "\(self.status.listen)",
                isReadOnly: self.configuration.isReadOnly,
                peers: peers,
                sessions: zip(sessions, counts).map { session, count in
                    NodeStatus.Session(
                        id: session,
                        entries: Int(count),
                        lamportMaximum: self.files.lamportMaxima[session],
                        checkpointSnapshotID: self.files.checkpointSnapshots[session]
                    )
                },
                counters: counters,
                pending: self.admissions.pending
            )
        )
    }
}
