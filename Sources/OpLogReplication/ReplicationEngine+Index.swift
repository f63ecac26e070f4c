import OpLog

// Restoring the local file's entries from the host's index instead of from their lines.
extension ReplicationEngine {
    /// Gives back entries of `session`'s local file from the host's index (see
    /// ``Restore/indexedEntries``); several calls append consecutive runs. Part of
    /// ``restore(_:)``: after the origins and arrivals, before any line of the session is fed.
    ///
    /// Returns the ``ReplicationAction/recordOrigins(session:firstSequence:origins:)`` for the
    /// restored entries beyond those the origin journal gave.
    /// - Complexity: O(`entries.count`), no hashing beyond the dictionary's.
    mutating func restoreIndexedEntries(
        session: SessionID,
        _ entries: some Sequence<IndexedEntry>
    ) -> [ReplicationAction] {
        var replica = self.takeSession(session)
        defer { self.sessions[session] = replica }
        let firstSequence = UInt64(replica.order.count) + 1
        // Grown geometrically: a log restored in many runs must not be copied and rehashed
        // whole for each run.
        let needed = replica.order.count + entries.underestimatedCount
        if replica.order.capacity < needed {
            replica.order.reserveCapacity(max(needed, 2 * replica.order.capacity))
        }
        if replica.status.capacity < needed {
            replica.status.reserveCapacity(max(needed, 2 * replica.status.capacity))
        }
        for indexed in entries where replica.status[indexed.opID] == nil {
            let origin = self.restoredOrigin(
                of: indexed.opID,
                key: indexed.key,
                index: replica.order.count,
                session: session
            )
            replica.status[indexed.opID] = .indexed
            replica.order.append(
                KnownEntry(
                    location: indexed.location,
                    origin: origin,
                    key: indexed.key,
                    contentHash: indexed.contentHash
                )
            )
            Self.settle(indexed.opID, in: &replica)
        }
        // Origins the journal already holds (it is what restoreOrigins got) are not recorded
        // again: on a large log that would be one array element per entry, for nothing.
        let firstUnjournaled = max(firstSequence, UInt64(self.priorOrigins.bySequence[session]?.count ?? 0) + 1)
        guard UInt64(replica.order.count) >= firstUnjournaled else { return [] }
        return [
            .recordOrigins(
                session: session,
                firstSequence: firstUnjournaled,
                origins: replica.order[Int(firstUnjournaled - 1)...].map { self.node(of: $0.origin) }
            )
        ]
    }
}
