import OpLog

// A local file replaced or cut while the replica runs: the numbering of the session is
// forgotten and made again from the file as it is now, and every live link reconciles the
// session afresh, so that peers give back what the file lost and nothing the peers hold is
// shipped again.
//
// The order, for the host:
// 1. ``ReplicationAction/resetSession(_:)`` comes first: the host drops what it keeps by
//    sequence number for the session (origin journal, index, every peer's recorded progress,
//    as 0) before it carries out anything after it.
// 2. Then the ``ReplicationAction/recordOrigins(session:firstSequence:origins:)`` and
//    ``ReplicationAction/recordIndex(session:firstSequence:entries:lastLineDigest:)`` of the new
//    numbering, from sequence 1.
// 3. Then one reconciliation start per live link (or, without ``Configuration/localNode``, the
//    whole session shipped again; the peers drop what they hold).
extension ReplicationEngine {
    /// Forgets `session`'s numbering, numbers `entries` (the whole file as it is now) from 1,
    /// and restarts the session's exchange on every live link with a reconciliation.
    ///
    /// Kept as they were: entries being appended (their lines are numbered when read back, as
    /// always), entries held for parents or deferred, ranges waiting to be acknowledged to peers
    /// (they are in the peers' numberings), and checkpoints. Forgotten: the entries the old file
    /// held (those still in it are numbered again, keeping the peer they came from; those gone
    /// are unknown, so a peer that sends them back has them written), entries written and not
    /// yet read back that the file no longer holds (likewise; those it holds keep their origin),
    /// and what each peer acknowledged. Acknowledgements that arrive
    /// while a link reconciles are dropped (they count the old numbering; the outcome decides),
    /// and the peer, told of a new exchange, drops the acknowledgements it still owes.
    /// - Complexity: O(old entries + `entries`).
    mutating func resetLocalFile(
        _ session: SessionID,
        entries: [LocalEntry],
        now: Duration,
        into actions: inout [ReplicationAction]
    ) {
        actions.append(.resetSession(session))
        self.recentEntries.removeAll(in: session)
        var replica = self.takeSession(session)
        // The peers the old file's entries came from, by reconciliation key (a re-read entry is
        // matched by its key, as the old numbering kept no op ids); this replica's own are the
        // default.
        var origins = self.priorOrigins.atReset[session] ?? [:]
        for known in replica.order where !known.origin.isLocal {
            origins[known.key] = known.origin
        }
        replica.order = []
        replica.wholeSums = [:]
        // Written entries not yet read back keep their status (and origin) through the re-read;
        // those the file no longer holds are forgotten after it.
        replica.status.removeAll { status in
            switch status {
            case .indexed: true
            case .written, .pending, .held: false
            }
        }
        self.sessions[session] = replica
        self.priorOrigins.bySequence[session] = nil
        self.priorOrigins.atReset[session] = origins.isEmpty ? nil : origins
        for peer in self.acknowledged.keys.sorted() {
            self.acknowledged[peer]?[session] = nil
        }
        let live = self.links.keys.sorted()
        for peer in live {
            self.links[peer]?[session] = nil
        }
        self.addLocalEntries(entries, session: session, now: now, pumpsLinks: false, into: &actions)
        self.sessions[session]?.status.removeAll { status in
            switch status {
            case .written: true
            case .indexed, .pending, .held: false
            }
        }
        let current = self.sessions[session] ?? SessionReplica()
        for peer in live {
            if self.configuration.localNode != nil {
                // Even with an empty file: the peer learns that this replica lacks everything.
                self.startReconciliation(
                    peer,
                    session: session,
                    replica: current,
                    isReset: true,
                    now: now,
                    into: &actions
                )
            } else {
                self.pump(peer, session: session, replica: current, now: now, into: &actions)
            }
        }
    }
}
