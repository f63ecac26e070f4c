import OpLog

// Links: connection lifecycle, messages, acknowledgements, timers (what to send next is in
// +Shipping).
extension ReplicationEngine {
    mutating func connect(
        _ peer: NodeID,
        key: ReconciliationKey,
        pairKey: ReconciliationKey?,
        rules: PeerRules,
        now: Duration,
        into actions: inout [ReplicationAction]
    ) {
        if self.links[peer] != nil { self.disconnect(peer) }
        _ = self.origin(of: peer)
        self.links[peer] = PeerLink(key: key, pairKey: pairKey, rules: rules)
        for session in self.sessions.keys.sorted() where rules.shares(session) {
            guard let replica = self.sessions[session] else { continue }
            if self.shouldReconcile(peer, session: session, replica: replica) {
                self.startReconciliation(peer, session: session, replica: replica, now: now, into: &actions)
            } else {
                // What the session holds now is a backlog to this peer, not live.
                self.ensureLinkState(peer, session: session, now: now)
                self.pump(peer, session: session, replica: replica, now: now, into: &actions)
            }
            self.pumpCheckpoint(peer, session: session, replica: replica, now: now, into: &actions)
        }
    }

    mutating func disconnect(_ peer: NodeID) {
        guard let link = self.links.removeValue(forKey: peer) else { return }
        for (session, state) in link.sessions {
            // An unfinished reconciliation leaves the recorded progress as it was.
            if state.isShippingBlocked { continue }
            self.acknowledged[peer, default: [:]][session] = state.acknowledged
        }
        // Ranges still being written for it are sent again on reconnect; what it announced is
        // asked for from another announcer, or left to reconciliation.
        for session in Array(self.sessions.keys) {
            var replica = self.takeSession(session)
            defer { self.sessions[session] = replica }
            replica.waits.removeAll { $0.peer == peer }
            guard self.noticedTally > 0, !replica.noticed.isEmpty else { continue }
            let announced = replica.noticed.compactMap { key, entry in
                entry.announcers.contains { $0.peer == peer } ? key : nil
            }
            var forgotten: [NoticeKey] = []
            for key in announced {
                guard var entry = replica.noticed[key] else { continue }
                entry.announcers.removeAll { $0.peer == peer }
                if entry.announcers.isEmpty {
                    forgotten.append(key)
                } else {
                    replica.noticed[key] = entry
                }
            }
            self.forgetAnnounced(forgotten, in: &replica)
        }
    }

    mutating func receive(
        _ message: ReplicationMessage,
        from peer: NodeID,
        now: Duration,
        into actions: inout [ReplicationAction]
    ) {
        switch message {
        case .entries(let batch):
            self.receiveEntries(CheckedEntryBatch(batch), from: peer, now: now, into: &actions)
        case .acknowledge(let rawSession, let after, let through):
            self.receiveAcknowledgement(
                rawSession,
                after: after,
                through: through,
                from: peer,
                now: now,
                into: &actions
            )
        case .checkpoint(let rawSession, let bytes):
            self.receiveCheckpoint(rawSession, bytes: bytes, from: peer, now: now, into: &actions)
        case .checkpointAcknowledge(let rawSession, let lamportTimestamp, let snapshotID, let digest):
            let identity = CheckpointIdentity(
                lamportTimestamp: lamportTimestamp,
                snapshotID: snapshotID,
                digest: digest
            )
            guard let session = try? SessionID(validating: rawSession),
                let shared = self.sessions[session]?.shared,
                shared.identity == identity
            else { return }
            self.links[peer]?[session]?.checkpointAcknowledged = identity
        case .reconcile(let rawSession, let exchange, let step, let ranges):
            self.receiveReconciliation(
                rawSession,
                exchange: exchange,
                step: step,
                ranges: ranges,
                from: peer,
                now: now,
                into: &actions
            )
        case .prune(let rawSession):
            self.receivePrune(rawSession, from: peer)
        case .graft(let rawSession, let sequences):
            self.receiveGraft(rawSession, sequences: sequences, from: peer, now: now, into: &actions)
        case .retransmit(let rawSession):
            guard let session = try? SessionID(validating: rawSession), self.links[peer]?[session] != nil else {
                return
            }
            self.links[peer]?[session]?.isRetransmitRequested = true
            self.retransmitIfRequested(peer, session: session, now: now, into: &actions)
        }
    }

    /// Sends again what `peer` has not acknowledged of `session`, if it asked and the last
    /// retransmission was at least ``Configuration/retransmitRequestInterval`` ago (a peer that
    /// keeps refusing a line cannot make this replica loop).
    mutating func retransmitIfRequested(
        _ peer: NodeID,
        session: SessionID,
        now: Duration,
        into actions: inout [ReplicationAction]
    ) {
        guard var state = self.links[peer]?[session], state.isRetransmitRequested, let replica = self.sessions[session]
        else { return }
        if state.retransmitRequestsHonoured > 0, let last = state.lastRetransmit {
            let doublings = min(state.retransmitRequestsHonoured - 1, 20)
            let delay = min(
                self.configuration.retransmitRequestInterval * (1 << doublings),
                max(self.configuration.retransmitTimeout, self.configuration.retransmitRequestInterval)
            )
            if now - last < delay { return }
        }
        state.isRetransmitRequested = false
        state.retransmitRequestsHonoured += 1
        self.retransmit(&state, now: now)
        self.links[peer]?[session] = state
        self.pump(peer, session: session, replica: replica, now: now, into: &actions)
    }

    /// Rewinds the link to what the peer acknowledged, so ``pump(_:session:replica:now:into:)``
    /// sends the rest again.
    func retransmit(_ state: inout LinkState, now: Duration) {
        state.sent = state.acknowledged
        state.lastProgress = now
        state.lastRetransmit = now
    }

    mutating func receiveAcknowledgement(
        _ rawSession: String,
        after: UInt64,
        through: UInt64,
        from peer: NodeID,
        now: Duration,
        into actions: inout [ReplicationAction]
    ) {
        guard let session = try? SessionID(validating: rawSession), let replica = self.sessions[session],
            var state = self.links[peer]?[session]
        else { return }
        // Nothing was shipped since the exchange began: this counts what was sent before (in a
        // numbering a reset of the file may have dropped), and the outcome decides instead.
        if state.isShippingBlocked { return }
        guard after < through, through <= UInt64(replica.order.count) else {
            self.rejectMessage(
                from: peer,
                ReplicationRejection(
                    .unsentAcknowledgement,
                    "acknowledgement of (\(after), \(through)] in \(session) was never sent"
                ),
                into: &actions
            )
            return
        }
        let before = state.acknowledged
        if after <= state.acknowledged {
            state.acknowledged = max(state.acknowledged, through)
        } else {
            state.earlyAcknowledgements[after] = max(state.earlyAcknowledgements[after] ?? 0, through)
        }
        var merged = true
        while merged {
            merged = false
            for (start, end) in state.earlyAcknowledgements where start <= state.acknowledged {
                state.earlyAcknowledgements[start] = nil
                state.acknowledged = max(state.acknowledged, end)
                merged = true
            }
        }
        state.sent = max(state.sent, state.acknowledged)
        if state.acknowledged > before {
            // Only progress of the contiguous acknowledgement restarts the retransmission timer:
            // acknowledgements of later ranges must not keep a lost range from being sent again.
            state.lastProgress = now
            state.retransmitRequestsHonoured = 0
        }
        self.links[peer]?[session] = state
        if state.acknowledged > before {
            actions.append(.recordProgress(peer: peer, session: session, acknowledged: state.acknowledged))
        }
        self.pump(peer, session: session, replica: replica, now: now, into: &actions)
    }

    /// Retransmissions, checkpoint offers, stalled reconciliations and held entries whose time
    /// has come.
    ///
    /// - Complexity: a check of a few fields per link and session, then work (in sorted order,
    ///   so the engine stays deterministic) only for the sessions where something is due: an idle
    ///   node with a thousand sessions sorts nothing.
    mutating func tick(now: Duration, into actions: inout [ReplicationAction]) {
        self.abandonStalledReconciliations(now: now, into: &actions)
        let retransmitTimeout = self.configuration.retransmitTimeout
        for peer in self.links.keys.sorted() {
            guard let link = self.links[peer] else { continue }
            let due = link.sessions.compactMap { session, state in
                self.isTickDue(state, session: session, rules: link.rules, now: now) ? session : nil
            }
            for session in due.sorted() {
                guard var state = self.links[peer]?[session], let replica = self.sessions[session] else { continue }
                if state.sent > state.acknowledged && now - state.lastProgress >= retransmitTimeout {
                    self.retransmit(&state, now: now)
                    state.isRetransmitRequested = false
                    self.links[peer]?[session] = state
                    self.pump(peer, session: session, replica: replica, announcing: true, now: now, into: &actions)
                } else {
                    self.retransmitIfRequested(peer, session: session, now: now, into: &actions)
                }
                if let current = self.links[peer]?[session], self.hasNoticesDue(current, session: session) {
                    self.pump(peer, session: session, replica: replica, announcing: true, now: now, into: &actions)
                }
                self.pumpCheckpoint(peer, session: session, replica: replica, now: now, into: &actions)
            }
        }
        self.graftMissing(now: now, into: &actions)
        guard self.heldTally.count > 0 else { return }
        let holdTimeout = self.configuration.holdTimeout
        let due = self.sessions.compactMap { session, current in
            current.appendInFlight == nil
                && (current.appendRetryAt.map { $0 <= now }
                    ?? current.held.values.contains { $0.since + holdTimeout <= now })
                ? session : nil
        }
        for session in due.sorted() {
            var replica = self.takeSession(session)
            self.stage([], replica: &replica, session: session, now: now, into: &actions)
            self.sessions[session] = replica
        }
    }

    /// Whether a tick has anything to do for `session` on a link in `state`: a retransmission
    /// (timed out, or asked for), notices to send on a lazy link, or a checkpoint offer (see
    /// ``pumpCheckpoint(_:session:replica:now:into:)``, whose conditions these are).
    func isTickDue(_ state: LinkState, session: SessionID, rules: PeerRules, now: Duration) -> Bool {
        if state.isRetransmitRequested || self.hasNoticesDue(state, session: session) { return true }
        if state.sent > state.acknowledged && now - state.lastProgress >= self.configuration.retransmitTimeout {
            return true
        }
        guard let shared = self.sessions[session]?.shared else { return false }
        return self.isCheckpointOfferDue(state, shared, session: session, rules: rules, now: now)
    }

    /// Whether the link in `state` is to be offered `shared` now (by ``pumpCheckpoint``): the
    /// peer may see the session, has not acknowledged that checkpoint, and the last offer, if
    /// any, is a retransmit timeout old.
    func isCheckpointOfferDue(
        _ state: LinkState,
        _ shared: SharedCheckpoint,
        session: SessionID,
        rules: PeerRules,
        now: Duration
    ) -> Bool {
        guard rules.sends(session), state.checkpointAcknowledged != shared.identity else { return false }
        return state.checkpointSentAt.map { now - $0 >= self.configuration.retransmitTimeout } ?? true
    }
}
