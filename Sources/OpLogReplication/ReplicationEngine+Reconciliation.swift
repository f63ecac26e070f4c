import OpLog

// Set reconciliation when a link comes up: the link learns which entries the peer lacks before
// it ships. Recorded progress alone cannot be trusted for that: a peer restored from a backup,
// or one whose state folder was lost, holds less than it once acknowledged, or nothing is
// known at all. When the peer holds all that the progress says (the usual case), the exchange
// is one fingerprint each way; with a pair key on the link, that fingerprint's sum is kept per
// peer and session between connections, so two replicas in sync reconnect in O(sessions) and
// hash nothing (``wholeSum(of:for:count:exchangeKey:)``).
extension ReplicationEngine {
    /// Whether `peer`'s link of `session` starts with a reconciliation: this replica knows its
    /// own node id (to break ties) and holds entries of the session.
    func shouldReconcile(_ peer: NodeID, session: SessionID, replica: SessionReplica) -> Bool {
        self.configuration.localNode != nil && !replica.order.isEmpty
    }

    /// Starts a reconciliation of `session` with `peer`; nothing is shipped until it completes
    /// (or is given up, when shipping resumes from the recorded progress).
    ///
    /// `isReset`: the local file was reset, and the peer must answer this start even if its own
    /// is under way, and ship by its outcome (see ``Reconciliation/resetFlag``).
    mutating func startReconciliation(
        _ peer: NodeID,
        session: SessionID,
        replica: SessionReplica,
        isReset: Bool = false,
        now: Duration,
        into actions: inout [ReplicationAction]
    ) {
        guard let link = self.links[peer], link.rules.shares(session) else { return }
        let linkKey = link.key
        let recorded = self.acknowledged[peer]?[session] ?? 0
        self.exchangesStarted += 1
        let serial = Reconciliation.serial(
            Reconciliation.exchangeSeed(of: self.configuration.localNode) &+ self.exchangesStarted
        )
        let exchange = isReset ? serial | Reconciliation.resetFlag : serial
        var reconciliation = Reconciliation(
            exchange: exchange,
            linkKey: linkKey,
            count: replica.order.count,
            wholeSum: self.wholeSum(
                of: session,
                for: peer,
                count: replica.order.count,
                exchangeKey: linkKey.exchangeKey(exchange)
            ),
            isStartedHere: true,
            now: now
        )
        let ranges = reconciliation.start()
        var state = LinkState(
            reconciling: reconciliation,
            recorded: recorded,
            count: UInt64(replica.order.count),
            now: now
        )
        // Late copies of the peer's earlier starts on this link stay recognised.
        state.peerReset = self.links[peer]?[session]?.peerReset
        self.links[peer]?[session] = state
        let message = ReplicationMessage.reconcile(
            session: session.rawValue,
            exchange: reconciliation.exchange,
            step: 0,
            ranges: ranges
        )
        actions.append(.send(message, to: peer))
    }

    /// Takes step `step` of exchange `exchange`. Step 0 starts an exchange; any other step must
    /// be the one the current exchange expects, so a duplicated or late message (a network that
    /// duplicates, or a link that came back) is dropped rather than taken for an answer.
    mutating func receiveReconciliation(
        _ rawSession: String,
        exchange: UInt64,
        step: UInt32,
        ranges: [ReconciliationRange],
        from peer: NodeID,
        now: Duration,
        into actions: inout [ReplicationAction]
    ) {
        let session: SessionID
        do {
            session = try SessionID(validating: rawSession)
        } catch {
            self.rejectMessage(from: peer, ReplicationRejection(.invalidSessionID, error.message), into: &actions)
            return
        }
        guard let link = self.links[peer] else { return }
        guard link.rules.shares(session) else {
            // Given up at once, the same whether this replica holds the session or not: the
            // peer ships from its recorded progress, and what it ships is acknowledged unread.
            if step == 0 {
                actions.append(
                    .send(.reconcile(session: rawSession, exchange: exchange, step: 1, ranges: []), to: peer)
                )
            }
            return
        }
        let linkKey = link.key
        let order = self.sessions[session]?.order ?? []
        let acknowledged = self.acknowledged[peer]?[session] ?? 0
        var state =
            self.links[peer]?[session] ?? LinkState(acknowledged: acknowledged, count: UInt64(order.count), now: now)
        defer {
            self.links[peer]?[session] = state
            if let replica = self.sessions[session] {
                self.pump(peer, session: session, replica: replica, now: now, into: &actions)
            }
        }
        let current = state.reconciliation
        if ranges.isEmpty {
            // The peer gave the exchange up: ship from the recorded progress, as without one;
            // but a reset start is made again (that progress does not say what the peer has).
            if let current, current.exchange == exchange {
                state.endReconciliation()
                if current.isStartedHere && Reconciliation.isReset(exchange), let replica = self.sessions[session] {
                    self.links[peer]?[session] = state
                    self.startReconciliation(
                        peer,
                        session: session,
                        replica: replica,
                        isReset: true,
                        now: now,
                        into: &actions
                    )
                    state = self.links[peer]?[session] ?? state
                }
            }
            return
        }
        if step == 0 {
            if let current, current.exchange == exchange { return }  // a duplicate of its start
            let isReset = Reconciliation.isReset(exchange)
            if isReset {
                // A copy of an earlier reset start (a network that duplicates or delays).
                if let last = state.peerReset, Reconciliation.serial(exchange) <= last { return }
                state.peerReset = Reconciliation.serial(exchange)
                // What it announced before its file was reset, it may no longer hold.
                state.peerNoticed = []
                // The acknowledgements still owed to the peer for this session count the
                // numbering it dropped.
                self.sessions[session]?.waits.removeAll { $0.peer == peer }
            }
            if let current, current.isStartedHere, !current.isComplete, let local = self.configuration.localNode,
                (local < peer && !isReset) || (Reconciliation.isReset(current.exchange) && (!isReset || local < peer))
            {
                return  // both started: ours goes on, and the peer answers it
            }
            let answer = Reconciliation(
                exchange: exchange,
                linkKey: linkKey,
                count: order.count,
                wholeSum: self.wholeSum(
                    of: session,
                    for: peer,
                    count: order.count,
                    exchangeKey: linkKey.exchangeKey(exchange)
                ),
                isStartedHere: false,
                now: now
            )
            if isReset {
                if !state.isShippingBlocked {
                    // The progress a blocked link keeps is the record; make it this link's.
                    self.acknowledged[peer, default: [:]][session] = state.acknowledged
                }
                // The peer holds less than it acknowledged: shipping waits for the outcome.
                state.restart(answering: answer)
            } else {
                // Takes the place of the exchange under way, if any: shipping stays blocked if it was.
                state.update(answer)
            }
        }
        guard var reconciliation = state.reconciliation, reconciliation.exchange == exchange,
            reconciliation.expectedStep == step
        else { return }  // a late or repeated message, or one of an exchange given up
        let hadSorted = reconciliation.hasSortedEntries
        defer {
            if !hadSorted && reconciliation.hasSortedEntries {
                self.statistics.reconciliationHashes += reconciliation.count
            }
        }
        do {
            if let reply = try reconciliation.answer(ranges, order: order) {
                let message = ReplicationMessage.reconcile(
                    session: session.rawValue,
                    exchange: exchange,
                    step: step + 1,
                    ranges: reply
                )
                actions.append(.send(message, to: peer))
            }
        } catch {
            self.rejectMessage(
                from: peer,
                ReplicationRejection(.reconciliationViolation, "reconciliation of \(session): \(error.message)"),
                into: &actions
            )
            actions.append(
                .send(.reconcile(session: session.rawValue, exchange: exchange, step: step + 1, ranges: []), to: peer)
            )
            state.endReconciliation()
            return
        }
        reconciliation.expectedStep = step + 2
        reconciliation.lastActivity = now
        guard reconciliation.isComplete else {
            state.update(reconciliation)
            return
        }
        guard state.isShippingBlocked else {
            state.endReconciliation()
            return
        }
        self.applyOutcome(of: reconciliation, to: &state, peer: peer, session: session, into: &actions)
    }

    /// The sum of the items of `session`'s entries `1...count` under the key of whole-session
    /// fingerprints on `peer`'s link: its pair key, with the sum kept from the last time and
    /// brought up to date by hashing only the entries numbered since; or, on a link without one,
    /// `exchangeKey`, hashing every entry.
    ///
    /// - Complexity: O(entries numbered since the last call for this peer and session) with a
    ///   pair key; O(`count`) without.
    mutating func wholeSum(
        of session: SessionID,
        for peer: NodeID,
        count: Int,
        exchangeKey: ReconciliationKey
    ) -> UInt64 {
        guard let order = self.sessions[session]?.order, count > 0 else { return 0 }
        guard let pairKey = self.links[peer]?.pairKey else {
            self.statistics.reconciliationHashes += count
            return Reconciliation.sum(of: order[0..<count], key: exchangeKey)
        }
        var kept = self.sessions[session]?.wholeSums[peer] ?? WholeSum(key: pairKey, count: 0, sum: 0)
        if kept.key != pairKey || kept.count > count { kept = WholeSum(key: pairKey, count: 0, sum: 0) }
        if kept.count < count {
            kept.sum &+= Reconciliation.sum(of: order[kept.count..<count], key: pairKey)
            self.statistics.reconciliationHashes += count - kept.count
            kept.count = count
        }
        self.sessions[session]?.wholeSums[peer] = kept
        return kept.sum
    }

    /// Ships what the peer lacks: from the first entry it lacks, skipping the rest it holds.
    private mutating func applyOutcome(
        of reconciliation: Reconciliation,
        to state: inout LinkState,
        peer: NodeID,
        session: SessionID,
        into actions: inout [ReplicationAction]
    ) {
        let count = UInt64(reconciliation.count)
        let lacking: Int
        let firstLacking: UInt64
        let holds: PeerHolds?
        switch reconciliation.finding {
        case .everything:
            lacking = reconciliation.count
            firstLacking = 1
            // Even what came from the peer: it lost it (its file was emptied or replaced).
            holds = count == 0 ? nil : PeerHolds(through: count, lacking: [], lacksAll: true)
        case .entries(let sequences):
            lacking = sequences.count
            firstLacking = sequences.min().map { UInt64($0) } ?? count + 1
            holds = firstLacking > count ? nil : PeerHolds(through: count, lacking: Set(sequences))
        }
        actions.append(
            .report(.reconciled(peer: peer, session: session, lacking: lacking, of: reconciliation.count))
        )
        if firstLacking - 1 < state.acknowledged {
            // It holds less than it acknowledged: restored from a backup, or its file was cut.
            actions.append(
                .report(
                    .peerLacksAcknowledged(
                        peer: peer,
                        session: session,
                        acknowledged: state.acknowledged,
                        holds: firstLacking - 1
                    )
                )
            )
        }
        if firstLacking - 1 != state.acknowledged {
            actions.append(.recordProgress(peer: peer, session: session, acknowledged: firstLacking - 1))
        }
        state.acknowledged = firstLacking - 1
        state.sent = state.acknowledged
        state.earlyAcknowledgements = [:]
        state.resume(skipping: holds)
    }

    /// Gives up exchanges that stalled for ``Configuration/retransmitTimeout`` (a message lost on
    /// a network that loses them): the link ships everything instead, and tells the peer.
    mutating func abandonStalledReconciliations(now: Duration, into actions: inout [ReplicationAction]) {
        let timeout = self.configuration.retransmitTimeout
        for peer in self.links.keys.sorted() {
            // Only the stalled ones are sorted (the order keeps the engine deterministic).
            let stalled = (self.links[peer]?.sessions ?? [:]).compactMap { session, state in
                state.reconciliation.map { now - $0.lastActivity >= timeout } == true ? session : nil
            }
            for session in stalled.sorted() {
                guard let reconciliation = self.links[peer]?[session]?.reconciliation,
                    now - reconciliation.lastActivity >= timeout
                else { continue }
                let isBlocked = self.links[peer]?[session]?.isShippingBlocked ?? false
                self.links[peer]?[session]?.endReconciliation()
                let message = ReplicationMessage.reconcile(
                    session: session.rawValue,
                    exchange: reconciliation.exchange,
                    step: reconciliation.expectedStep,
                    ranges: []
                )
                actions.append(.send(message, to: peer))
                guard let replica = self.sessions[session] else { continue }
                if isBlocked && reconciliation.isStartedHere && Reconciliation.isReset(reconciliation.exchange) {
                    // After a reset of the local file the recorded progress says nothing of what
                    // the peer must give back: start again rather than ship by it.
                    self.startReconciliation(
                        peer,
                        session: session,
                        replica: replica,
                        isReset: Reconciliation.isReset(reconciliation.exchange),
                        now: now,
                        into: &actions
                    )
                } else {
                    if isBlocked && !reconciliation.isStartedHere && Reconciliation.isReset(reconciliation.exchange),
                        self.configuration.localNode != nil
                    {
                        // The peer's file was reset and what it lacks was never learnt (its last
                        // step was lost): the recorded progress counts what it may have lost,
                        // and what came from it would never go back. Reconcile from this side.
                        self.startReconciliation(
                            peer,
                            session: session,
                            replica: replica,
                            now: now,
                            into: &actions
                        )
                        continue
                    }
                    self.pump(peer, session: session, replica: replica, now: now, into: &actions)
                }
            }
        }
    }
}

/// What a completed reconciliation found the peer to hold of the entries `1...through`: all of
/// them except `lacking`. The link skips what it holds, and ships what it lacks even when it
/// came from that peer (which lost it).
struct PeerHolds: Sendable {
    var through: UInt64
    var lacking: Set<UInt32>
    /// The peer lacks every one of `1...through` (`lacking` is then empty, not all of them).
    var lacksAll = false

    /// Whether the peer holds the entry with sequence number `sequence` (nil: not known).
    func holds(_ sequence: UInt64) -> Bool? {
        guard sequence <= self.through else { return nil }
        return !self.lacksAll && !self.lacking.contains(UInt32(sequence))
    }
}
