import Logging
import OpLog
import OpLogIdentity
import OpLogReplication
import OpLogWatch

// Starting: what the state folder recorded, the entry index, then every file.
extension AgentCore {
    /// Indexes every session's file and checkpoint, then restores the progress recorded before
    /// the last stop; progress whose last acknowledged entry is no longer at its place in the
    /// file (a replaced log) is dropped, so that session is sent again rather than skipped.
    /// A session whose entry index agrees with its file is taken from the index, and only the
    /// lines after it are read (see ``restoreFromIndexes()``).
    ///
    /// The order matters, and is this one: the torn end of an append a crash cut short is cut off
    /// (``cutTornAppends()``); what the journals and the indexes hold, in one
    /// ``ReplicationEngine/restore(_:)``; the files' remaining lines; progress last (it is
    /// checked against the files).
    /// Call once, before any link.
    func start() async throws(AgentError) {
        self.cutTornAppends()
        let recorded = try self.records.journals.load()
        self.restoreFromIndexes(
            ReplicationEngine.Restore(
                origins: recorded.origins,
                arrivals: recorded.arrivals,
                remoteCheckpoints: recorded.checkpoints,
                indexedEntries: [:]
            )
        )
        await self.localChanges(SessionChanges(isRescanNeeded: true), pieceBytes: Self.scanPieceBytes)
        if !recorded.arrivals.isEmpty { try self.records.journals.settleArrivals() }
        let marks = try self.background.progressStore.load()
        var restored: [NodeID: [SessionID: UInt64]] = [:]
        var dropped = 0
        // Progress is kept for admitted IDs only: progress recorded under an ID no longer
        // admitted (or under a random id from before identities) is forgotten, and the next
        // record leaves it out.
        let admitted = Set(self.configuration.admittedIDs.map(\.nodeID))
        for (peer, sessions) in marks where admitted.contains(peer) {
            for (session, mark) in sessions {
                let isStillThere =
                    if let lastOpID = mark.lastOpID {
                        // A version 1 record: its op id is read from the log, once.
                        self.opID(of: session, sequence: mark.acknowledged) == lastOpID
                    } else {
                        mark.names(self.engine.placement(of: session, sequence: mark.acknowledged))
                    }
                if mark.acknowledged == 0 || isStillThere {
                    restored[peer, default: [:]][session] = mark.acknowledged
                } else {
                    dropped += 1
                }
            }
        }
        if dropped > 0 {
            self.logger.warning(
                "recorded progress no longer matches the logs; those sessions will be sent again",
                metadata: ["sessions": "\(dropped)"]
            )
        }
        self.engine.restoreProgress(restored)
        for session in self.engine.knownSessions
        where (self.records.journals.journaledCount[session] ?? 0) > UInt64(self.engine.durableCount(of: session)) {
            // The file holds fewer entries than the journal describes (restored shorter while
            // the node was down): the journal's tail would be taken for later lines' origins.
            self.records.journals.rewriteOrigins(
                self.engine.origins(of: session),
                session: session,
                logger: self.logger
            )
        }
        self.progress.restore(restored)
        self.logger.info(
            "indexed",
            metadata: [
                "sessions": "\(self.engine.knownSessions.count)",
                "entries": "\(self.engine.knownSessions.reduce(0) { $0 + self.engine.durableCount(of: $1) })",
                "peers_with_progress": "\(restored.count)",
                "from_index": "\(self.records.index.restoredFromIndex)",
                "lines_read": "\(self.files.linesRead)",
            ]
        )
        self.startTimeline()
        self.publishStatus()
    }

    /// The op id of the entry with this sequence number, read from the file (for a version 1
    /// progress record, which names entries by op id).
    func opID(of session: SessionID, sequence: UInt64) -> String? {
        guard let location = self.engine.location(of: session, sequence: sequence) else { return nil }
        let log = SessionLog(layout: self.configuration.layout, sessionID: session)
        guard let bytes = try? log.readBytes(in: location.offset..<(location.offset + Int64(location.length))),
            let entry = try? OpEntry(line: bytes)
        else { return nil }
        return entry.opID.rawValue
    }
}
