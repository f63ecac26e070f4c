import OpLog

// Shipping: what to send each peer next, within its window, as entries or as notices.
extension ReplicationEngine {
    /// Ships the next ranges of `session` to `peer`, as far as the window allows. On a lazy link
    /// of a broadcast tree, entries the forwarding policy sends travel as notices, and only when
    /// `announcing` (at a tick), so that they are batched and the peer's own notices of the
    /// same entries, arriving meanwhile, keep them from being announced back.
    mutating func pump(
        _ peer: NodeID,
        session: SessionID,
        replica: SessionReplica,
        announcing: Bool = false,
        now: Duration,
        into actions: inout [ReplicationAction]
    ) {
        guard let link = self.links[peer], link.rules.sends(session) else { return }
        let acknowledged = self.acknowledged[peer]?[session] ?? 0
        let count = UInt64(replica.order.count)
        // A session first pumped on a live link is new since the link came up (the sessions
        // known then got their state at connect): all of it is live.
        var state =
            self.links[peer]?[session]
            ?? LinkState(acknowledged: acknowledged, count: 0, now: now)
        let before = state.acknowledged
        defer {
            self.links[peer]?[session] = state
            if state.acknowledged != before {
                actions.append(.recordProgress(peer: peer, session: session, acknowledged: state.acknowledged))
            }
        }
        if state.acknowledged > count {
            // The peer acknowledged more than this replica now holds (its log was replaced).
            state.acknowledged = count
            state.earlyAcknowledgements = [:]
        }
        if state.isShippingBlocked {
            // What is numbered before shipping starts is a backlog, not live.
            state.liveFrom = max(state.liveFrom, count)
            return
        }
        state.forgetFindingIfAcknowledged()
        state.sent = min(max(state.sent, state.acknowledged), count)
        let isTree = self.configuration.forwarding.isTree
        let isLazy = isTree && !state.isEager
        // Notices wait for a tick; what a reconciliation found the peer lacks does not.
        if isLazy && !announcing && state.peerHolds(state.sent + 1) == nil { return }
        // What the forwarding policy sends this peer, by origin; a reconciliation's finding that
        // the peer lacks an entry overrides it.
        let forwarded = self.forwardingTable(to: peer)
        let window = self.configuration.maximumInFlight
        while state.sent < count && state.sent - state.acknowledged < window {
            let limit = min(count, state.acknowledged + window)
            var sequence = state.sent
            var locations: [EntryLocation] = []
            var notices: [EntryNotice] = []
            var bytes = 0
            while sequence < limit && locations.count + notices.count < self.configuration.maximumBatchLines {
                let known = replica.order[Int(sequence)]
                sequence += 1
                if self.configuration.isReadOnly && known.origin.isLocal { continue }
                switch state.peerHolds(sequence) {
                case true?:
                    continue
                case false?:
                    break
                case nil:
                    guard forwarded[known.origin.slot] else { continue }
                    if isLazy {
                        let key = NoticeKey(known)
                        if state.peerNoticed.remove(key) == nil {
                            notices.append(
                                EntryNotice(sequence: sequence, hash: key.hash, contentHash: key.contentHash)
                            )
                        }
                        continue
                    }
                }
                let length = Int(known.location.length)
                if !locations.isEmpty && bytes + length > self.configuration.maximumBatchBytes {
                    sequence -= 1
                    break
                }
                locations.append(known.location)
                bytes += length
            }
            if locations.isEmpty && notices.isEmpty && state.sent == state.acknowledged {
                // Nothing in this stretch is for this peer: it needs no acknowledgement.
                state.acknowledged = sequence
                state.sent = sequence
                state.highestSent = max(state.highestSent, sequence)
                continue
            }
            if state.sent == state.acknowledged {
                // Nothing was outstanding: the retransmission timer starts with this send.
                state.lastProgress = now
            }
            let isLive = isTree && state.sent >= state.liveFrom && state.sent >= state.highestSent
            actions.append(
                .ship(
                    Shipment(
                        peer: peer,
                        session: session,
                        after: state.sent,
                        through: sequence,
                        locations: locations,
                        notices: notices,
                        isLive: isLive && !locations.isEmpty
                    )
                )
            )
            self.statistics.entriesShipped += locations.count
            self.statistics.noticesSent += notices.count
            state.sent = sequence
            state.highestSent = max(state.highestSent, sequence)
        }
        // Caught up: what the peer announced is passed (or not held here; announcing such an
        // entry back later costs a notice).
        if state.sent == count && !state.peerNoticed.isEmpty { state.peerNoticed = [] }
    }

    mutating func pumpAllLinks(
        session: SessionID,
        replica: SessionReplica,
        now: Duration,
        into actions: inout [ReplicationAction]
    ) {
        guard !self.links.isEmpty else { return }
        for peer in self.links.keys.sorted() {
            self.pump(peer, session: session, replica: replica, now: now, into: &actions)
        }
    }
}
