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
        switch self.links.register(link) {
        case .refused:
            self.logger.debug("duplicate link closed", metadata: ["peer": "\(link.peer)"])
            return false
        case .replaced(let existing):
            self.logger.debug("duplicate link replaced", metadata: ["peer": "\(link.peer)"])
            existing.close()
            self.apply(.peerDisconnected(link.peer))
        case .added:
            break
        }
        self.logger.info("peer connected", metadata: ["peer": "\(link.peer)", "address": "\(link.address)"])
        self.apply(.peerConnected(link.peer, key: link.reconciliationKey))
        self.status.catchUp.isCheckDue = true
        return true
    }

    func unregister(_ link: LinkHandle) {
        guard self.links.unregister(link) else { return }
        self.logger.info("peer disconnected", metadata: ["peer": "\(link.peer)", "address": "\(link.address)"])
        self.apply(.peerDisconnected(link.peer))
    }

    /// Whether the peer has a link, now and after each change (see
    /// ``LinkRegistry/connectionStates(of:)``).
    func connectionStates(of peer: NodeID) -> AsyncStream<Bool> {
        self.links.connectionStates(of: peer)
    }

    func receive(_ message: ReplicationMessage, on link: LinkHandle) {
        guard self.links.isCurrent(link) else { return }
        self.apply(.received(message, from: link.peer))
    }

    func receive(_ batch: CheckedEntryBatch, on link: LinkHandle) {
        guard self.links.isCurrent(link) else { return }
        self.apply(.receivedEntries(batch, from: link.peer))
    }

    func tick() {
        self.apply(.tick)
        self.closeStalledLinks()
        self.retryCheckpoints()
        self.retryStalledWrites()
        self.saveProgress()
        self.logCatchUp()
        self.publishStatus()
    }

    /// Every few seconds, for each peer that is far behind (a new replica, one back from
    /// offline): how many of this node's entries it holds, of how many, and at what rate; then
    /// one line when it has caught up.
    func logCatchUp(every interval: Duration = .seconds(5), backlog: UInt64 = 1_000) {
        let now = self.now
        guard self.status.catchUp.isCheckDue || now - self.status.catchUp.lastCheck >= interval else { return }
        self.status.catchUp.lastCheck = now
        self.status.catchUp.isCheckDue = false
        let sessions = self.engine.knownSessions
        for peer in self.links.connectedPeers {
            var done: UInt64 = 0
            var total: UInt64 = 0
            for session in sessions {
                let count = UInt64(self.engine.durableCount(of: session))
                total += count
                done += min(self.engine.acknowledgedSequence(of: peer, session: session), count)
            }
            let previous = self.status.catchUp.points[peer]
            guard total - done >= backlog || previous != nil else { continue }
            if done == total {
                self.logger.info("peer caught up", metadata: ["peer": "\(peer)", "entries": "\(total)"])
                self.status.catchUp.points[peer] = nil
                continue
            }
            var metadata: Logger.Metadata = ["peer": "\(peer)", "done": "\(done)", "total": "\(total)"]
            var rate: Double?
            if let previous, done >= previous.done, now > previous.at {
                let seconds =
                    Double((now - previous.at).components.seconds)
                    + Double((now - previous.at).components.attoseconds) / 1e18
                rate = Double(done - previous.done) / seconds
                metadata["per_second"] = "\(Int((Double(done - previous.done) / seconds).rounded()))"
            }
            self.logger.info("peer catching up", metadata: metadata)
            self.status.catchUp.points[peer] = CatchUpTracker.Point(done: done, at: now, ratePerSecond: rate)
        }
    }

    /// Closes every link whose peer stopped reading: something waits to be written and nothing
    /// was for the idle timeout. The peer's redial (or ours) starts afresh.
    func closeStalledLinks() {
        for link in self.links.allLinks where link.outbox.isStalled(timeout: self.configuration.idleTimeout) {
            self.logger.warning(
                "peer stopped reading; closing its link",
                metadata: [
                    "peer": "\(link.peer)", "address": "\(link.address)", "queued_bytes": "\(link.outbox.queuedBytes)",
                ]
            )
            link.close()
        }
    }

    func closeAllLinks() {
        for link in self.links.allLinks { link.close() }
    }
}
