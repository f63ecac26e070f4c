import OpLog

// Checkpoints: every replica ends on the greatest by `Checkpoint.precedes`.
extension ReplicationEngine {
    /// The local `checkpoint.json` holds `checkpoint`: a lesser one than the greatest known is put
    /// back; a greater one is adopted, and offered to peers unless this replica is read-only.
    mutating func adoptLocalCheckpoint(
        _ checkpoint: Checkpoint,
        session: SessionID,
        now: Duration,
        into actions: inout [ReplicationAction]
    ) {
        var replica = self.takeSession(session)
        defer { self.sessions[session] = replica }
        if let best = replica.checkpoint {
            if best.bytes == checkpoint.bytes { return }
            if Checkpoint.precedes(checkpoint, best) {
                // A writer put back an older checkpoint: the greatest wins (history keeps both).
                actions.append(.writeCheckpoint(session: session, best))
                return
            }
        }
        replica.checkpoint = checkpoint
        actions.append(.report(.adopted(checkpoint, session: session, from: nil)))
        guard !self.configuration.isReadOnly else { return }
        replica.shared = SharedCheckpoint(checkpoint)
        self.offerCheckpoint(session: session, replica: replica, except: nil, now: now, into: &actions)
    }

    /// A peer's checkpoint: a greater one than this replica offers is recorded, forwarded to
    /// the other peers and written (unless the file already holds a greater one of a read-only
    /// replica's own); a lesser one makes this replica send the peer its own. Either way the
    /// peer gets an acknowledgement naming exactly the bytes it sent.
    mutating func receiveCheckpoint(
        _ rawSession: String,
        bytes: [UInt8],
        from peer: NodeID,
        now: Duration,
        into actions: inout [ReplicationAction]
    ) {
        let session: SessionID
        let checkpoint: Checkpoint
        do {
            session = try SessionID(validating: rawSession)
        } catch {
            self.rejectMessage(
                from: peer,
                ReplicationRejection(.invalidSessionID, "checkpoint refused: \(error.message)"),
                into: &actions
            )
            return
        }
        do {
            checkpoint = try Checkpoint(bytes: bytes)
        } catch {
            self.rejectMessage(
                from: peer,
                ReplicationRejection(.invalidCheckpoint, "checkpoint of \(session) refused: \(error.message)"),
                into: &actions
            )
            return
        }
        guard checkpoint.sessionID.utf8.elementsEqual(session.rawValue.utf8) else {
            self.rejectMessage(
                from: peer,
                ReplicationRejection(
                    .checkpointSessionMismatch,
                    "checkpoint of session \(checkpoint.sessionID) sent as session \(session)"
                ),
                into: &actions
            )
            return
        }
        guard self.links[peer]?.rules.takes(session) ?? false else {
            // Acknowledged unread, as for a session this replica does not hold.
            self.statistics.refusedByRules += 1
            actions.append(.send(.acknowledgement(of: checkpoint), to: peer))
            return
        }
        var replica = self.takeSession(session)
        defer { self.sessions[session] = replica }
        let received = SharedCheckpoint(checkpoint)
        if let shared = replica.shared, !Checkpoint.precedes(shared.checkpoint, checkpoint) {
            if shared.identity == received.identity {
                self.ensureLinkState(peer, session: session, now: now)
                self.links[peer]?[session]?.checkpointAcknowledged = shared.identity
            } else {
                // The peer is behind: send it ours now rather than at the next retransmission.
                self.links[peer]?[session]?.checkpointSentAt = nil
                self.pumpCheckpoint(peer, session: session, replica: replica, now: now, into: &actions)
            }
        } else {
            replica.shared = received
            if replica.checkpoint.map({ Checkpoint.precedes($0, checkpoint) }) ?? true {
                replica.checkpoint = checkpoint
                actions.append(.writeCheckpoint(session: session, checkpoint))
                actions.append(.report(.adopted(checkpoint, session: session, from: peer)))
            }
            actions.append(.recordRemoteCheckpoint(session: session, checkpoint))
            self.offerCheckpoint(session: session, replica: replica, except: peer, now: now, into: &actions)
        }
        actions.append(
            .send(
                .checkpointAcknowledge(
                    session: session.rawValue,
                    lamportTimestamp: received.identity.lamportTimestamp,
                    snapshotID: checkpoint.snapshotID,
                    digest: received.identity.digest
                ),
                to: peer
            )
        )
    }

    /// Sends the session's new shared checkpoint, which came from `source` (`nil`: this
    /// replica's writers), to the peers the ``Configuration/forwarding`` policy chooses; `source`
    /// has it.
    mutating func offerCheckpoint(
        session: SessionID,
        replica: SessionReplica,
        except source: NodeID?,
        now: Duration,
        into actions: inout [ReplicationAction]
    ) {
        guard let shared = replica.shared else { return }
        let linked = self.linkedPeers
        let targets = Set(self.configuration.forwarding.targets(forEntryFrom: source, among: linked))
        for peer in linked {
            if peer == source {
                self.ensureLinkState(peer, session: session, now: now)
                self.links[peer]?[session]?.checkpointAcknowledged = shared.identity
                continue
            }
            guard targets.contains(peer) else { continue }
            self.links[peer]?[session]?.checkpointSentAt = nil
            self.pumpCheckpoint(peer, session: session, replica: replica, now: now, into: &actions)
        }
    }

    /// Sends the session's shared checkpoint to `peer` unless it acknowledged it, or it was sent
    /// less than a retransmission timeout ago.
    mutating func pumpCheckpoint(
        _ peer: NodeID,
        session: SessionID,
        replica: SessionReplica,
        now: Duration,
        into actions: inout [ReplicationAction]
    ) {
        guard let shared = replica.shared, let link = self.links[peer], link.rules.sends(session) else { return }
        self.ensureLinkState(peer, session: session, now: now)
        guard var state = self.links[peer]?[session],
            self.isCheckpointOfferDue(state, shared, session: session, rules: link.rules, now: now)
        else { return }
        state.checkpointSentAt = now
        self.links[peer]?[session] = state
        actions.append(.send(.checkpoint(session: session.rawValue, bytes: shared.checkpoint.bytes), to: peer))
    }

    mutating func ensureLinkState(_ peer: NodeID, session: SessionID, now: Duration) {
        guard self.links[peer] != nil, self.links[peer]?[session] == nil else { return }
        let acknowledged = self.acknowledged[peer]?[session] ?? 0
        let count = UInt64(self.sessions[session]?.order.count ?? 0)
        self.links[peer]?[session] = LinkState(acknowledged: acknowledged, count: count, now: now)
    }
}

extension ReplicationReport {
    static func adopted(_ checkpoint: Checkpoint, session: SessionID, from peer: NodeID?) -> ReplicationReport {
        .checkpointAdopted(
            session: session,
            lamportTimestamp: checkpoint.lamportTimestamp,
            snapshotID: checkpoint.snapshotID,
            fromPeer: peer
        )
    }
}
