import Logging
import OpLog
import OpLogReplication
import OpLogWatch
import OpLogWire

// Links to peers, the ticker, and the log lines of engine reports.
extension AgentCore {
    // MARK: Links

    /// Makes `link` the link to its peer. When a link to that peer exists, the one dialed by the
    /// node with the smaller id stays and the other is closed; returns whether `link` stayed.
    func register(_ link: LinkHandle) -> Bool {
        if let existing = self.links[link.peer] {
            if !(link.dialer < existing.dialer) {
                self.logger.debug("duplicate link closed", metadata: ["peer": "\(link.peer)"])
                return false
            }
            self.logger.debug("duplicate link replaced", metadata: ["peer": "\(link.peer)"])
            existing.close()
            self.links[link.peer] = nil
            self.apply(.peerDisconnected(link.peer))
        }
        self.links[link.peer] = link
        self.logger.info("peer connected", metadata: ["peer": "\(link.peer)", "address": "\(link.address)"])
        self.apply(.peerConnected(link.peer))
        self.isCatchUpCheckDue = true
        return true
    }

    func unregister(_ link: LinkHandle) {
        guard self.links[link.peer] === link else { return }
        self.links[link.peer] = nil
        self.logger.info("peer disconnected", metadata: ["peer": "\(link.peer)", "address": "\(link.address)"])
        self.apply(.peerDisconnected(link.peer))
    }

    func isConnected(_ peer: NodeID) -> Bool {
        self.links[peer] != nil
    }

    func receive(_ message: ReplicationMessage, on link: LinkHandle) {
        guard self.links[link.peer] === link else { return }
        self.apply(.received(message, from: link.peer))
    }

    func receive(_ batch: CheckedEntryBatch, on link: LinkHandle) {
        guard self.links[link.peer] === link else { return }
        self.apply(.receivedEntries(batch, from: link.peer))
    }

    func tick() {
        self.apply(.tick)
        self.retryStalledWrites()
        self.saveProgress()
        self.logCatchUp()
    }

    /// Every few seconds, for each peer that is far behind (a new replica, one back from
    /// offline): how many of this node's entries it holds, of how many, and at what rate; then
    /// one line when it has caught up.
    func logCatchUp(every interval: Duration = .seconds(5), backlog: UInt64 = 1_000) {
        let now = self.now
        guard self.isCatchUpCheckDue || now - self.lastCatchUpCheck >= interval else { return }
        self.lastCatchUpCheck = now
        self.isCatchUpCheckDue = false
        let sessions = self.engine.knownSessions
        for peer in self.links.keys.sorted() {
            var done: UInt64 = 0
            var total: UInt64 = 0
            for session in sessions {
                let count = UInt64(self.engine.durableCount(of: session))
                total += count
                done += min(self.engine.acknowledgedSequence(of: peer, session: session), count)
            }
            let previous = self.catchUp[peer]
            guard total - done >= backlog || previous != nil else { continue }
            if done == total {
                self.logger.info("peer caught up", metadata: ["peer": "\(peer)", "entries": "\(total)"])
                self.catchUp[peer] = nil
                continue
            }
            var metadata: Logger.Metadata = ["peer": "\(peer)", "done": "\(done)", "total": "\(total)"]
            if let previous, done >= previous.done, now > previous.at {
                let seconds =
                    Double((now - previous.at).components.seconds)
                    + Double((now - previous.at).components.attoseconds) / 1e18
                metadata["per_second"] = "\(Int((Double(done - previous.done) / seconds).rounded()))"
            }
            self.logger.info("peer catching up", metadata: metadata)
            self.catchUp[peer] = (done, now)
        }
    }

    func closeAllLinks() {
        for link in self.links.values { link.close() }
    }

    func log(_ report: ReplicationReport) {
        switch report {
        case .rejectedEntry(let peer, let session, let rejection):
            self.logger.warning(
                "entry rejected",
                error: rejection,
                metadata: [
                    "peer": "\(peer?.rawValue ?? "local")", "session": "\(session)", "reason": "\(rejection.code)",
                ]
            )
        case .rejectedMessage(let peer, let rejection):
            self.logger.warning(
                "message rejected",
                error: rejection,
                metadata: ["peer": "\(peer)", "reason": "\(rejection.code)"]
            )
        case .orphansWritten(let session, let count):
            self.logger.warning(
                "entries written without their parents after waiting for them",
                metadata: ["session": "\(session)", "count": "\(count)"]
            )
        case .checkpointAdopted(let session, let lamportTimestamp, let snapshotID, let peer):
            self.logger.info(
                "checkpoint adopted",
                metadata: [
                    "session": "\(session)", "lamport_ts": "\(lamportTimestamp)", "snapshot_id": "\(snapshotID)",
                    "peer": "\(peer?.rawValue ?? "local")",
                ]
            )
        case .reconciled(let peer, let session, let lacking, let count):
            self.logger.info(
                "reconciled with peer",
                metadata: ["peer": "\(peer)", "session": "\(session)", "lacking": "\(lacking)", "held": "\(count)"]
            )
        case .peerLacksAcknowledged(let peer, let session, let acknowledged, let holds):
            self.logger.warning(
                "peer lacks entries it had acknowledged (restored from a backup?); sending them again",
                metadata: [
                    "peer": "\(peer)", "session": "\(session)", "acknowledged": "\(acknowledged)", "holds": "\(holds)",
                ]
            )
        }
    }
}
