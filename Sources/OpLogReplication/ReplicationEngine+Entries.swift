import OpLog

// Entries: local discovery, staging for write, completion (a peer's entries arrive in
// +Receiving).
extension ReplicationEngine {
    mutating func addLocalEntries(
        _ entries: [LocalEntry],
        session: SessionID,
        now: Duration,
        pumpsLinks: Bool = true,
        into actions: inout [ReplicationAction]
    ) {
        var replica = self.takeSession(session)
        defer { self.sessions[session] = replica }
        let firstSequence = UInt64(replica.order.count) + 1
        var added = false
        var indexed: [IndexedEntry] = []
        var lastLine: [UInt8] = []
        for local in entries {
            let id = local.entry.opID
            let (key, contentHash) = ReconciliationBound.placing(local.entry)
            let origin: Origin
            // A written entry was settled when its append completed, and no wait took it since.
            var isSettled = false
            let statusIndex = replica.status.index(forKey: id)
            switch statusIndex.map({ replica.status[at: $0] }) {
            case .indexed:
                // Lines come in file order: one past the last numbered line is a new line that
                // repeats an op id (a writer bug); anything else is the same line read again.
                if let last = replica.order.last, local.offset > last.location.offset + Int64(last.location.length),
                    let known = Self.location(ofKnown: key, in: replica)
                {
                    actions.append(
                        .report(
                            .repeatedLocalOpID(
                                session: session,
                                opID: id,
                                location: EntryLocation(offset: local.offset, length: Int32(local.entry.line.count)),
                                firstLocation: known
                            )
                        )
                    )
                }
                continue
            case .pending(let token):
                // Read back before its append was reported complete.
                origin = self.pendingAppends.byToken[token]?.entries.first { $0.entry.opID == id }?.origin ?? .local
            case .written(let writtenOrigin):
                origin = writtenOrigin
                isSettled = true
            case .held:
                if let held = replica.held.removeValue(forKey: id) {
                    origin = held.origin
                    self.heldTally.remove(held.entry)
                } else if let index = replica.deferred.firstIndex(where: { $0.entry.opID == id }) {
                    let deferred = replica.deferred.remove(at: index)
                    origin = deferred.origin
                    self.heldTally.remove(deferred.entry)
                } else {
                    origin = .local
                    self.heldTally.remove(local.entry)
                }
            case nil:
                do {
                    try local.entry.verifyContentID()
                } catch {
                    self.statistics.entriesRejected += 1
                    actions.append(
                        .report(
                            .rejectedEntry(
                                peer: nil,
                                session: session.rawValue,
                                ReplicationRejection(entryError: error)
                            )
                        )
                    )
                    continue
                }
                origin = self.restoredOrigin(of: id, key: key, index: replica.order.count, session: session)
            }
            if let statusIndex {
                replica.status[at: statusIndex] = .indexed
            } else {
                replica.status[id] = .indexed
            }
            let location = EntryLocation(offset: local.offset, length: Int32(local.entry.line.count))
            replica.order.append(KnownEntry(location: location, origin: origin, key: key, contentHash: contentHash))
            indexed.append(IndexedEntry(opID: id, location: location, key: key, contentHash: contentHash))
            self.noteHeld(NoticeKey(hash: key.hash, contentHash: contentHash), session: session, replica: &replica)
            lastLine = local.entry.line
            if !isSettled { Self.settle(id, in: &replica) }
            added = true
        }
        guard added else { return }
        actions.append(
            .recordOrigins(
                session: session,
                firstSequence: firstSequence,
                origins: replica.order[Int(firstSequence - 1)...].map { self.node(of: $0.origin) }
            )
        )
        actions.append(
            .recordIndex(
                session: session,
                firstSequence: firstSequence,
                entries: indexed,
                lastLineDigest: IndexedEntry.lineDigest(of: lastLine)
            )
        )
        self.stage([], replica: &replica, session: session, now: now, into: &actions)
        self.acknowledgeSettled(&replica, session: session, into: &actions)
        if pumpsLinks { self.pumpAllLinks(session: session, replica: replica, now: now, into: &actions) }
    }

    /// Where a newly numbered entry came from, by what was recorded before a restart: the
    /// origin journal's entry at its place (`index` = sequence − 1), else what the numbering
    /// forgotten at a reset of the file knew of it (by `key`), else the arrivals, else this
    /// replica's own writers.
    func restoredOrigin(of id: OpID, key: ReconciliationBound, index: Int, session: SessionID) -> Origin {
        if let restored = self.priorOrigins.bySequence[session], index < restored.count {
            return restored[index]
        }
        if let origin = self.priorOrigins.atReset[session]?[key] { return origin }
        return self.priorOrigins.arrivals[session]?[id] ?? .local
    }

    /// The append is durable: the ranges waiting for it are acknowledged, and what waited behind
    /// it is staged. Its entries get their sequence numbers (and are forwarded) once the file's
    /// new lines are fed back, so the numbering is the file's order even when other writers
    /// append at the same time; or at once, when the host says where they are (`firstOffset`,
    /// right after everything it fed).
    mutating func completeAppend(
        token: UInt64,
        inPlaceAt firstOffset: Int64? = nil,
        now: Duration,
        into actions: inout [ReplicationAction]
    ) {
        guard let pending = self.pendingAppends.byToken[token] else { return }
        self.settleAppend(token: token, now: now, into: &actions)
        guard var offset = firstOffset else { return }
        // Numbered now, as the file's next lines, instead of when the host reads them back.
        var entries: [LocalEntry] = []
        entries.reserveCapacity(pending.entries.count)
        for held in pending.entries {
            entries.append(LocalEntry(entry: held.entry, offset: offset))
            offset += Int64(held.entry.line.count) + 1
        }
        self.addLocalEntries(entries, session: pending.session, now: now, into: &actions)
    }

    private mutating func settleAppend(token: UInt64, now: Duration, into actions: inout [ReplicationAction]) {
        guard let pending = self.pendingAppends.byToken.removeValue(forKey: token) else { return }
        var replica = self.takeSession(pending.session)
        defer { self.sessions[pending.session] = replica }
        if replica.appendInFlight == token { replica.appendInFlight = nil }
        for held in pending.entries {
            // One lookup for the test and the update (the status table is the largest in the engine).
            guard let index = replica.status.index(forKey: held.entry.opID),
                case .pending(token) = replica.status[at: index]
            else { continue }
            replica.status[at: index] = .written(origin: held.origin)
        }
        Self.settle(pending.entries, in: &replica)
        self.statistics.entriesWritten += pending.entries.count
        self.acknowledgeSettled(&replica, session: pending.session, into: &actions)
        self.stage([], replica: &replica, session: pending.session, now: now, into: &actions)
    }

    /// Nothing of the append reached the file: its entries wait again (with their arrival times,
    /// so an orphan does not wait a second hold) and are asked for again after
    /// ``Configuration/appendRetryDelay``, still ahead of anything received since. The ranges
    /// that carried them stay unacknowledged until then.
    mutating func failAppend(token: UInt64, now: Duration) {
        guard let pending = self.pendingAppends.byToken.removeValue(forKey: token) else { return }
        var replica = self.takeSession(pending.session)
        defer { self.sessions[pending.session] = replica }
        if replica.appendInFlight == token { replica.appendInFlight = nil }
        for held in pending.entries {
            guard case .pending(token) = replica.status[held.entry.opID] else { continue }
            replica.status[held.entry.opID] = nil
            self.hold(held, in: &replica)
        }
        replica.appendRetryAt = now + self.configuration.appendRetryDelay
    }

    /// Where the numbered entry with the op id that `key` was made from is in the local file:
    /// the last one whose key has that op id's hash (its `lamport_ts` may differ, when two
    /// entries share an id; a wrong match takes a 2⁻⁶⁴ collision). Searched from the end, where
    /// duplicates usually land: no table by op id is kept for this.
    /// - Complexity: O(entries after it).
    static func location(ofKnown key: ReconciliationBound, in replica: SessionReplica) -> EntryLocation? {
        replica.order.last { $0.key.hash == key.hash }?.location
    }

    /// Marks `id` durable in every range waiting for it.
    static func settle(_ id: OpID, in replica: inout SessionReplica) {
        guard !replica.waits.isEmpty else { return }
        for index in replica.waits.indices {
            replica.waits[index].remaining.remove(id)
        }
    }

    /// Marks the entries of a completed append (now all written or indexed) durable in every
    /// range waiting for them: per range, by removing each of them, or, when the range waits for
    /// fewer entries than that, by keeping those still not durable, so that several ranges
    /// waiting for one large append cost O(entries waited for), not O(entries × ranges).
    static func settle(_ entries: [HeldEntry], in replica: inout SessionReplica) {
        guard !replica.waits.isEmpty else { return }
        let status = replica.status
        for index in replica.waits.indices where !replica.waits[index].remaining.isEmpty {
            if replica.waits[index].remaining.count <= entries.count {
                replica.waits[index].remaining = replica.waits[index].remaining.filter { id in
                    switch status[id] {
                    case .indexed, .written: false
                    case .pending, .held, nil: true
                    }
                }
            } else {
                for held in entries { replica.waits[index].remaining.remove(held.entry.opID) }
            }
        }
    }

    /// Acknowledges, in arrival order, every received range whose entries are all durable.
    mutating func acknowledgeSettled(
        _ replica: inout SessionReplica,
        session: SessionID,
        into actions: inout [ReplicationAction]
    ) {
        guard replica.waits.contains(where: \.isSettled) else { return }
        for wait in replica.waits where wait.isSettled && self.links[wait.peer] != nil {
            actions.append(
                .send(.acknowledge(session: session.rawValue, after: wait.after, through: wait.through), to: wait.peer)
            )
        }
        replica.waits.removeAll(where: \.isSettled)
    }

    mutating func takeSession(_ session: SessionID) -> SessionReplica {
        self.sessions.removeValue(forKey: session) ?? SessionReplica()
    }

    mutating func rejectMessage(
        from peer: NodeID,
        _ rejection: ReplicationRejection,
        into actions: inout [ReplicationAction]
    ) {
        self.statistics.messagesRejected += 1
        actions.append(.report(.rejectedMessage(peer: peer, rejection)))
    }
}
