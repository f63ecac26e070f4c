import Logging
import OpLog
import OpLogReplication
import OpLogWatch
import OpLogWire

// Links to peers and the ticker.
extension AgentCore {
    // MARK: Links

    /// Makes `link` the link to its peer. When a link to that peer exists, the one dialed by the
    /// node with the smaller id stays and the other is closed; returns whether `link` stayed.
    func register(_ link: LinkHandle) -> Bool {
        switch self.links.register(link) {
        case .refused:
            self.logger.debug("duplicate link closed", metadata: ["peer": "\(link.peer)"])
            self.connectionRefused(.duplicateLink)
            return false
        case .replaced(let existing):
            self.logger.debug("duplicate link replaced", metadata: ["peer": "\(link.peer)"])
            existing.close()
            self.status.peers.unlinked(existing)
            self.status.catchUp.peerDisconnected(link.peer)
            self.apply(.peerDisconnected(link.peer))
        case .added:
            break
        }
        self.status.peers.linked(link)
        self.logger.info("peer connected", metadata: ["peer": "\(link.peer)", "address": "\(link.address)"])
        self.apply(.peerConnected(link.peer, key: link.reconciliationKey, pairKey: link.pairKey, rules: link.rules))
        return true
    }

    func unregister(_ link: LinkHandle) {
        guard self.links.unregister(link) else { return }
        self.status.peers.unlinked(link)
        if self.progress.acknowledged[link.peer] == nil && !self.status.peers.answeredPeers.contains(link.peer) {
            // Not listed once its link is gone: nothing of it is kept.
            self.status.peers.forget(link.peer)
        }
        self.status.catchUp.peerDisconnected(link.peer)
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
        self.publishStatusIfDue()
    }

    /// Closes every link whose peer stopped reading: something waits to be written and nothing
    /// was for the idle timeout. The peer's redial (or ours) starts afresh.
    func closeStalledLinks() {
        for link in self.links.allLinks where link.outbox.isStalled(timeout: self.configuration.links.idleTimeout) {
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
