import OpLog

// Receiving: a peer's entries checked against the range it sent them in, held for parents,
// staged for write, and acknowledged once durable.
extension ReplicationEngine {
    /// A peer's batch of entries, as parsed and checked where it arrived: entries this replica
    /// already holds are dropped (a live one prunes the link on a broadcast tree), the others are
    /// held for their parents or staged for writing, and the batch's range (with the entries it
    /// announces) is acknowledged once all of it is durable here. A range that holds a damaged
    /// line stays unacknowledged and is asked for again; a session the peer's rules keep out is
    /// acknowledged unread.
    mutating func receiveEntries(
        _ batch: CheckedEntryBatch,
        from peer: NodeID,
        now: Duration,
        into actions: inout [ReplicationAction]
    ) {
        let acknowledgement = ReplicationAction.send(
            .acknowledge(session: batch.session, after: batch.after, through: batch.through),
            to: peer
        )
        guard batch.after < batch.through,
            UInt64(batch.entries.count) + UInt64(batch.notices.count) <= batch.through - batch.after
        else {
            self.rejectMessage(
                from: peer,
                ReplicationRejection(
                    .invalidRange,
                    "entry range (\(batch.after), \(batch.through)] of \(batch.session) cannot hold \(batch.entries.count) lines and \(batch.notices.count) notices"
                ),
                into: &actions
            )
            return
        }
        guard batch.notices.allSatisfy({ $0.sequence > batch.after && $0.sequence <= batch.through }) else {
            self.rejectMessage(
                from: peer,
                ReplicationRejection(
                    .invalidRange,
                    "a notice of \(batch.session) lies outside its batch's range (\(batch.after), \(batch.through)]"
                ),
                into: &actions
            )
            return
        }
        let session: SessionID
        do {
            session = try SessionID(validating: batch.session)
        } catch {
            // Nothing can ever be written for it: acknowledge, so the sender does not loop.
            self.rejectMessage(from: peer, ReplicationRejection(.invalidSessionID, error.message), into: &actions)
            actions.append(acknowledgement)
            return
        }
        guard self.links[peer]?.rules.takes(session) ?? false else {
            // Acknowledged unread: the sender does not send them again, and learns nothing of
            // whether this replica holds the session.
            self.statistics.refusedByRules += batch.entries.count + batch.notices.count
            actions.append(acknowledgement)
            return
        }
        let origin = self.origin(of: peer)
        var replica = self.takeSession(session)
        defer { self.sessions[session] = replica }
        let announced = self.receiveNotices(batch.notices, session: session, from: peer, replica: &replica, now: now)
        self.statistics.entriesReceived += batch.entries.count
        // A live entry this replica already held came faster another way.
        var heldAlready = false
        var remaining = Set<OpID>(minimumCapacity: batch.entries.count)
        var incoming: [(entry: OpEntry, origin: Origin)] = []
        incoming.reserveCapacity(batch.entries.count)
        var rejected = 0
        for checked in batch.entries {
            let entry: OpEntry
            switch checked {
            case .success(let checkedEntry):
                entry = checkedEntry
                self.statistics.entryBytesReceived += checkedEntry.line.count
            case .failure(let error):
                rejected += 1
                self.statistics.entriesRejected += 1
                actions.append(
                    .report(
                        .rejectedEntry(peer: peer, session: session.rawValue, ReplicationRejection(entryError: error))
                    )
                )
                continue
            }
            switch replica.status[entry.opID] {
            case .indexed:
                heldAlready = true
                self.statistics.duplicatesIgnored += 1
                if replica.waits.contains(where: { !$0.announced.isEmpty }) {
                    // Announced again after it left the recent entries, and sent on request.
                    let (key, contentHash) = ReconciliationBound.placing(entry)
                    self.noteHeld(
                        NoticeKey(hash: key.hash, contentHash: contentHash),
                        session: session,
                        replica: &replica
                    )
                }
                // A content id was verified, so the same id is the same content; an opaque one
                // may name two different entries (a writer bug): the host compares the lines.
                if !entry.opID.rawValue.hasPrefix(OpID.contentPrefix),
                    let known = Self.location(ofKnown: ReconciliationBound(entry), in: replica)
                {
                    actions.append(
                        .report(
                            .duplicateReceived(
                                peer: peer,
                                session: session,
                                opID: entry.opID,
                                location: known,
                                line: entry.line
                            )
                        )
                    )
                }
            case .written:
                heldAlready = true
                self.statistics.duplicatesIgnored += 1
            case .pending, .held:
                heldAlready = true
                self.statistics.duplicatesIgnored += 1
                remaining.insert(entry.opID)
            case nil:
                if remaining.insert(entry.opID).inserted {
                    if !replica.noticed.isEmpty {
                        // Announced by another peer: no need to ask for it now.
                        let (key, contentHash) = ReconciliationBound.placing(entry)
                        let notice = NoticeKey(hash: key.hash, contentHash: contentHash)
                        if replica.noticed.removeValue(forKey: notice) != nil { self.noticedTally -= 1 }
                    }
                    incoming.append((entry, origin))
                } else {
                    self.statistics.duplicatesIgnored += 1
                }
            }
        }
        if heldAlready && batch.isLive { self.prune(peer, session: session, now: now, into: &actions) }
        self.stage(incoming, replica: &replica, session: session, now: now, into: &actions)
        // A sender ships only lines that pass its own checks, so a rejected line was damaged on
        // the way: the range stays unacknowledged, and the sender is asked to send it again.
        guard rejected == 0 else {
            actions.append(.send(.retransmit(session: session.rawValue), to: peer))
            return
        }
        if remaining.isEmpty && announced.isEmpty {
            actions.append(acknowledgement)
        } else {
            replica.waits.append(
                RangeWait(
                    peer: peer,
                    after: batch.after,
                    through: batch.through,
                    remaining: remaining,
                    announced: announced
                )
            )
        }
        if !announced.isEmpty { self.acknowledgeSettled(&replica, session: session, into: &actions) }
    }
}
