import OpLog

// Checkpoints: every replica ends on the greatest (`lamport_ts`, `snapshot_id`).
extension ReplicationEngine {
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
        replica.isCheckpointLocal = self.remoteCheckpoints[session] != CheckpointIdentity(checkpoint)
        actions.append(
            .report(
                .checkpointAdopted(
                    session: session,
                    lamportTimestamp: checkpoint.lamportTimestamp,
                    snapshotID: checkpoint.snapshotID,
                    fromPeer: nil
                )
            )
        )
        self.offerCheckpoint(session: session, replica: replica, except: nil, now: now, into: &actions)
    }

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
            checkpoint = try Checkpoint(bytes: bytes)
        } catch {
            self.rejectMessage(from: peer, "checkpoint refused: \(error.message)", into: &actions)
            return
        }
        guard checkpoint.sessionID.utf8.elementsEqual(session.rawValue.utf8) else {
            self.rejectMessage(
                from: peer,
                "checkpoint of session \(checkpoint.sessionID) sent as session \(session)",
                into: &actions
            )
            return
        }
        var replica = self.takeSession(session)
        defer { self.sessions[session] = replica }
        if let best = replica.checkpoint, !Checkpoint.precedes(best, checkpoint) {
            if best.bytes == checkpoint.bytes {
                self.ensureLinkState(peer, session: session, now: now)
                self.links[peer]?[session]?.checkpointAcknowledged = CheckpointIdentity(best)
            } else {
                // The peer is behind: send it ours now rather than at the next retransmission.
                // Its acknowledgement of our (lamport_ts, snapshot_id) may have been for other
                // bytes with the same pair, so it no longer counts.
                self.links[peer]?[session]?.checkpointSentAt = nil
                self.links[peer]?[session]?.checkpointAcknowledged = nil
                self.pumpCheckpoint(peer, session: session, replica: replica, now: now, into: &actions)
            }
        } else {
            replica.checkpoint = checkpoint
            replica.isCheckpointLocal = false
            actions.append(.writeCheckpoint(session: session, checkpoint))
            actions.append(
                .report(
                    .checkpointAdopted(
                        session: session,
                        lamportTimestamp: checkpoint.lamportTimestamp,
                        snapshotID: checkpoint.snapshotID,
                        fromPeer: peer
                    )
                )
            )
            self.offerCheckpoint(session: session, replica: replica, except: peer, now: now, into: &actions)
        }
        actions.append(
            .send(
                .checkpointAcknowledge(
                    session: session.rawValue,
                    lamportTimestamp: Int64(checkpoint.lamportTimestamp),
                    snapshotID: checkpoint.snapshotID
                ),
                to: peer
            )
        )
    }

    /// Sends the session's new checkpoint to every connected peer but `source`, which has it.
    mutating func offerCheckpoint(
        session: SessionID,
        replica: SessionReplica,
        except source: NodeID?,
        now: Duration,
        into actions: inout [ReplicationAction]
    ) {
        guard let checkpoint = replica.checkpoint else { return }
        for peer in self.links.keys.sorted() {
            if peer == source {
                self.ensureLinkState(peer, session: session, now: now)
                self.links[peer]?[session]?.checkpointAcknowledged = CheckpointIdentity(checkpoint)
                continue
            }
            self.links[peer]?[session]?.checkpointSentAt = nil
            self.pumpCheckpoint(peer, session: session, replica: replica, now: now, into: &actions)
        }
    }

    /// Sends the session's checkpoint to `peer` unless it acknowledged it, or it was sent less
    /// than a retransmission timeout ago.
    mutating func pumpCheckpoint(
        _ peer: NodeID,
        session: SessionID,
        replica: SessionReplica,
        now: Duration,
        into actions: inout [ReplicationAction]
    ) {
        guard let checkpoint = replica.checkpoint, !(self.configuration.isReadOnly && replica.isCheckpointLocal),
            self.links[peer] != nil
        else { return }
        self.ensureLinkState(peer, session: session, now: now)
        guard var state = self.links[peer]?[session] else { return }
        let identity = CheckpointIdentity(checkpoint)
        if state.checkpointAcknowledged == identity { return }
        if let sentAt = state.checkpointSentAt, now - sentAt < self.configuration.retransmitTimeout { return }
        state.checkpointSentAt = now
        self.links[peer]?[session] = state
        actions.append(.send(.checkpoint(session: session.rawValue, bytes: checkpoint.bytes), to: peer))
    }

    mutating func ensureLinkState(_ peer: NodeID, session: SessionID, now: Duration) {
        guard self.links[peer] != nil, self.links[peer]?[session] == nil else { return }
        let acknowledged = self.acknowledged[peer]?[session] ?? 0
        self.links[peer]?[session] = LinkState(acknowledged: acknowledged, sent: acknowledged, lastProgress: now)
    }
}
