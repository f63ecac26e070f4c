import OpLog

// Set reconciliation on links whose progress is unknown (a new peer, a lost state folder): the
// link learns which entries the peer lacks before it ships, instead of shipping everything.
extension ReplicationEngine {
    /// Whether `peer`'s link of `session` starts with a reconciliation: this replica knows its
    /// own node id (to break ties), holds entries, and never heard from the peer what it has.
    func shouldReconcile(_ peer: NodeID, session: SessionID, replica: SessionReplica) -> Bool {
        self.configuration.localNode != nil && !replica.order.isEmpty && self.acknowledged[peer]?[session] == nil
    }

    /// Starts a reconciliation of `session` with `peer`; nothing is shipped until it completes.
    mutating func startReconciliation(
        _ peer: NodeID,
        session: SessionID,
        replica: SessionReplica,
        now: Duration,
        into actions: inout [ReplicationAction]
    ) {
        var state = LinkState(acknowledged: 0, sent: 0, lastProgress: now)
        var reconciliation = Reconciliation(
            count: replica.order.count,
            isShippingBlocked: true,
            isStartedHere: true,
            now: now
        )
        let ranges = reconciliation.start(replica.order)
        state.reconciliation = reconciliation
        self.links[peer]?[session] = state
        actions.append(.send(.reconcile(session: session.rawValue, isStart: true, ranges: ranges), to: peer))
    }

    mutating func receiveReconciliation(
        _ rawSession: String,
        isStart: Bool,
        ranges: [ReconciliationRange],
        from peer: NodeID,
        now: Duration,
        into actions: inout [ReplicationAction]
    ) {
        let session: SessionID
        do {
            session = try SessionID(validating: rawSession)
        } catch {
            self.rejectMessage(from: peer, error.message, into: &actions)
            return
        }
        let order = self.sessions[session]?.order ?? []
        let acknowledged = self.acknowledged[peer]?[session] ?? 0
        var state =
            self.links[peer]?[session] ?? LinkState(acknowledged: acknowledged, sent: acknowledged, lastProgress: now)
        defer {
            self.links[peer]?[session] = state
            if let replica = self.sessions[session] {
                self.pump(peer, session: session, replica: replica, now: now, into: &actions)
            }
        }
        if ranges.isEmpty {
            // The peer gave the exchange up: ship everything, which is always correct.
            state.reconciliation = nil
            return
        }
        if isStart {
            if let ours = state.reconciliation, ours.isStartedHere, !ours.isComplete,
                let local = self.configuration.localNode, local < peer
            {
                return  // both started: ours goes on, and the peer answers it
            }
            state.reconciliation = Reconciliation(
                count: order.count,
                isShippingBlocked: state.reconciliation?.isShippingBlocked ?? false,
                isStartedHere: false,
                now: now
            )
        }
        guard var reconciliation = state.reconciliation else { return }  // a late message of an exchange given up
        do {
            if let reply = try reconciliation.answer(ranges, order: order) {
                actions.append(.send(.reconcile(session: session.rawValue, isStart: false, ranges: reply), to: peer))
            }
        } catch {
            self.rejectMessage(from: peer, "reconciliation of \(session): \(error.message)", into: &actions)
            actions.append(.send(.reconcile(session: session.rawValue, isStart: false, ranges: []), to: peer))
            state.reconciliation = nil
            return
        }
        reconciliation.lastActivity = now
        guard reconciliation.isComplete else {
            state.reconciliation = reconciliation
            return
        }
        state.reconciliation = nil
        guard reconciliation.isShippingBlocked else { return }
        let lacking = reconciliation.lacksEverything ? reconciliation.count : reconciliation.lacking.count
        actions.append(
            .report(.reconciled(peer: peer, session: session, lacking: lacking, of: reconciliation.count))
        )
        guard !reconciliation.lacksEverything else { return }
        // The peer holds every entry of 1...count but those it lacks: start after the first
        // run it holds, and skip the rest it holds.
        let count = UInt64(reconciliation.count)
        let firstLacking = reconciliation.lacking.min().map { UInt64($0) } ?? count + 1
        if firstLacking - 1 > state.acknowledged {
            state.acknowledged = firstLacking - 1
            state.sent = state.acknowledged
            state.earlyAcknowledgements = [:]
            actions.append(.recordProgress(peer: peer, session: session, acknowledged: state.acknowledged))
        }
        if firstLacking <= count {
            state.peerHolds = PeerHolds(through: count, lacking: Set(reconciliation.lacking))
        }
    }

    /// Gives up exchanges that stalled for ``Configuration/retransmitTimeout`` (a message lost on
    /// a network that loses them): the link ships everything instead, and tells the peer.
    mutating func abandonStalledReconciliations(now: Duration, into actions: inout [ReplicationAction]) {
        for peer in self.links.keys.sorted() {
            for session in (self.links[peer] ?? [:]).keys.sorted() {
                guard let reconciliation = self.links[peer]?[session]?.reconciliation,
                    now - reconciliation.lastActivity >= self.configuration.retransmitTimeout
                else { continue }
                self.links[peer]?[session]?.reconciliation = nil
                actions.append(.send(.reconcile(session: session.rawValue, isStart: false, ranges: []), to: peer))
                if let replica = self.sessions[session] {
                    self.pump(peer, session: session, replica: replica, now: now, into: &actions)
                }
            }
        }
    }
}

/// What a completed reconciliation found the peer to hold of the entries `1...through`: all of
/// them except `lacking`. The link skips the rest instead of shipping them.
struct PeerHolds: Sendable {
    var through: UInt64
    var lacking: Set<UInt32>

    /// Whether the entry with sequence number `sequence` needs no shipping.
    func holds(_ sequence: UInt64) -> Bool {
        sequence <= self.through && !self.lacking.contains(UInt32(sequence))
    }
}
