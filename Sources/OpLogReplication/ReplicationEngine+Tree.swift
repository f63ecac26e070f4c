import OpLog

// Broadcast trees (``ForwardingPolicy/tree``): notices, prunes and grafts.

/// What names an entry in a notice: the 128 bits of ``EntryNotice`` besides its sequence number.
struct NoticeKey: Sendable, Hashable {
    var hash: UInt64
    var contentHash: UInt64

    init(hash: UInt64, contentHash: UInt64) {
        self.hash = hash
        self.contentHash = contentHash
    }

    init(_ notice: EntryNotice) {
        self.init(hash: notice.hash, contentHash: notice.contentHash)
    }

    init(_ known: KnownEntry) {
        self.init(hash: known.key.hash, contentHash: known.contentHash)
    }
}

/// An entry a peer announced that this replica does not hold yet.
struct NoticedEntry: Sendable {
    /// Who announced it, with its sequence number there, in the order they did (at most
    /// ``maximumAnnouncers``); the first is asked next.
    var announcers: [(peer: NodeID, sequence: UInt64)]
    /// When it was announced, or last asked for: it is asked for a ``Configuration/graftTimeout``
    /// later.
    var since: Duration
    /// Times it was asked for: after ``maximumGrafts`` it is forgotten (reconciliation at the
    /// next link-up is the backstop; a peer that announces what it never sends costs no more).
    var grafts = 0

    static let maximumAnnouncers = 4
    static let maximumGrafts = 8
}

/// The entries this replica came to hold (durably) most recently, over all sessions: what an
/// arriving notice is checked against (a notice is for a new entry, usually one that arrived a
/// moment before on the tree). An entry older than the window that is announced again is asked
/// for once more, and dropped as a duplicate: it costs a line, never an entry. A session whose
/// file is reset leaves the window, since its entries may be gone.
struct RecentEntries: Sendable {
    struct Key: Sendable, Hashable {
        var session: SessionID
        var notice: NoticeKey
    }

    static let capacity = 1 << 16

    private var members: Set<Key> = []
    private var ring: [Key] = []
    private var next = 0

    func contains(_ notice: NoticeKey, in session: SessionID) -> Bool {
        self.members.contains(Key(session: session, notice: notice))
    }

    /// Forgets every entry of `session`.
    /// - Complexity: O(``capacity``).
    mutating func removeAll(in session: SessionID) {
        guard self.members.contains(where: { $0.session == session }) else { return }
        self.members = self.members.filter { $0.session != session }
        // Oldest first, as the ring fills again from its end.
        self.ring = (self.ring[self.next...] + self.ring[..<self.next]).filter { $0.session != session }
        self.next = 0
    }

    mutating func insert(_ notice: NoticeKey, in session: SessionID) {
        let key = Key(session: session, notice: notice)
        guard self.members.insert(key).inserted else { return }
        if self.ring.count < Self.capacity {
            self.ring.append(key)
            return
        }
        self.members.remove(self.ring[self.next])
        self.ring[self.next] = key
        self.next = (self.next + 1) % Self.capacity
    }
}

extension ReplicationEngine {
    /// Notes that `session` now holds the entry named `key`: a notice of it needs nothing, and
    /// a graft waiting for it is called off.
    mutating func noteHeld(_ key: NoticeKey, session: SessionID, replica: inout SessionReplica) {
        self.recentEntries.insert(key, in: session)
        if !replica.noticed.isEmpty, replica.noticed.removeValue(forKey: key) != nil {
            self.noticedTally -= 1
        }
        guard !replica.waits.isEmpty else { return }
        for index in replica.waits.indices where !replica.waits[index].announced.isEmpty {
            replica.waits[index].announced.remove(key)
        }
    }

    /// Takes the notices of a batch from `peer` and returns those of entries not held here
    /// (durably): the batch is acknowledged once they are. Entries this replica neither holds
    /// nor expects are remembered, to be asked for if they do not arrive in time. Every
    /// announced entry is one the peer holds, so it is not announced back.
    mutating func receiveNotices(
        _ notices: [EntryNotice],
        session: SessionID,
        from peer: NodeID,
        replica: inout SessionReplica,
        now: Duration
    ) -> Set<NoticeKey> {
        guard !notices.isEmpty else { return [] }
        var missing: Set<NoticeKey> = []
        self.statistics.noticesReceived += notices.count
        self.ensureLinkState(peer, session: session, now: now)
        var peerNoticed = self.links[peer]?[session]?.peerNoticed ?? []
        for notice in notices {
            let key = NoticeKey(notice)
            if peerNoticed.count < LinkState.maximumPeerNotices { peerNoticed.insert(key) }
            if self.recentEntries.contains(key, in: session) { continue }
            if var noticed = replica.noticed[key] {
                missing.insert(key)
                if noticed.announcers.count < NoticedEntry.maximumAnnouncers,
                    !noticed.announcers.contains(where: { $0.peer == peer })
                {
                    noticed.announcers.append((peer, notice.sequence))
                    replica.noticed[key] = noticed
                }
                continue
            }
            // Past the bound, a notice is acknowledged unheld rather than remembered: what a
            // peer announces cannot grow this replica's memory without end (the entry still
            // comes by the tree, or by reconciliation at the next link-up).
            guard self.noticedTally < self.configuration.maximumNoticedEntries else {
                self.statistics.noticesDropped += 1
                continue
            }
            missing.insert(key)
            replica.noticed[key] = NoticedEntry(announcers: [(peer, notice.sequence)], since: now)
            self.noticedTally += 1
        }
        self.links[peer]?[session]?.peerNoticed = peerNoticed
        return missing
    }

    /// `peer` sent, live, an entry this replica already held: it has a shorter path for the
    /// session, so the link turns lazy for it, both ways.
    mutating func prune(_ peer: NodeID, session: SessionID, now: Duration, into actions: inout [ReplicationAction]) {
        guard self.configuration.forwarding.isTree else { return }
        self.ensureLinkState(peer, session: session, now: now)
        guard self.links[peer]?[session]?.isEager == true else { return }
        self.links[peer]?[session]?.isEager = false
        self.statistics.prunesSent += 1
        actions.append(.send(.prune(session: session.rawValue), to: peer))
    }

    /// The peer turned the link lazy for `session`: new entries go to it as notices.
    mutating func receivePrune(_ rawSession: String, from peer: NodeID) {
        guard self.configuration.forwarding.isTree, let session = try? SessionID(validating: rawSession) else {
            return
        }
        self.links[peer]?[session]?.isEager = false
    }

    /// The peer asks for entries it was told of: they are shipped (those it may see, among those
    /// already announced to it), and the link turns eager for the session.
    mutating func receiveGraft(
        _ rawSession: String,
        sequences: [UInt64],
        from peer: NodeID,
        now: Duration,
        into actions: inout [ReplicationAction]
    ) {
        guard let session = try? SessionID(validating: rawSession), let link = self.links[peer],
            link.rules.sends(session), let replica = self.sessions[session]
        else { return }
        self.ensureLinkState(peer, session: session, now: now)
        guard var state = self.links[peer]?[session] else { return }
        state.isEager = true
        self.links[peer]?[session] = state
        // Only what was announced can be asked for (its number is at most what was sent), in
        // order, each once: a run of consecutive numbers travels as one range.
        let count = UInt64(replica.order.count)
        var wanted = sequences.filter { $0 >= 1 && $0 <= min(state.sent, count) }
        wanted.sort()
        var index = 0
        while index < wanted.count {
            var end = index
            while end + 1 < wanted.count && wanted[end + 1] <= wanted[end] + 1
                && wanted[end + 1] - wanted[index] < UInt64(self.configuration.maximumBatchLines)
            {
                end += 1
            }
            let first = wanted[index]
            let last = wanted[end]
            var locations: [EntryLocation] = []
            for sequence in first...last {
                let known = replica.order[Int(sequence - 1)]
                if self.configuration.isReadOnly && known.origin.isLocal { continue }
                locations.append(known.location)
            }
            if !locations.isEmpty {
                actions.append(
                    .ship(Shipment(peer: peer, session: session, after: first - 1, through: last, locations: locations))
                )
                self.statistics.entriesShipped += locations.count
            }
            index = end + 1
        }
    }

    /// Asks for the announced entries that did not arrive in time, each from the peer that
    /// announced it first (then the next, at each further timeout), and turns those links eager.
    ///
    /// - Complexity: O(sessions) when anything is announced and missing, nothing otherwise.
    mutating func graftMissing(now: Duration, into actions: inout [ReplicationAction]) {
        guard self.noticedTally > 0 else { return }
        let timeout = self.configuration.graftTimeout
        let due = self.sessions.compactMap { session, replica in
            replica.noticed.values.contains { $0.since + timeout <= now } ? session : nil
        }
        for session in due.sorted() {
            var replica = self.takeSession(session)
            let dueKeys = replica.noticed.compactMap { key, noticed in noticed.since + timeout <= now ? key : nil }
            var wanted: [NodeID: [UInt64]] = [:]
            var forgotten: [NoticeKey] = []
            for key in dueKeys {
                guard var noticed = replica.noticed[key] else { continue }
                noticed.announcers.removeAll { self.links[$0.peer] == nil }
                guard !noticed.announcers.isEmpty, noticed.grafts < NoticedEntry.maximumGrafts else {
                    forgotten.append(key)
                    continue
                }
                let announcer = noticed.announcers.removeFirst()
                wanted[announcer.peer, default: []].append(announcer.sequence)
                noticed.announcers.append(announcer)
                noticed.grafts += 1
                noticed.since = now
                replica.noticed[key] = noticed
            }
            self.forgetAnnounced(forgotten, in: &replica)
            // Ranges that waited only for forgotten entries are acknowledged.
            self.acknowledgeSettled(&replica, session: session, into: &actions)
            self.sessions[session] = replica
            for (peer, var sequences) in wanted.sorted(by: { $0.key < $1.key }) {
                sequences.sort()
                self.ensureLinkState(peer, session: session, now: now)
                self.links[peer]?[session]?.isEager = true
                self.statistics.graftsSent += 1
                actions.append(.send(.graft(session: session.rawValue, sequences: sequences), to: peer))
            }
        }
    }

    /// Stops waiting for the announced entries `keys` of `replica` (taken out of ``sessions``),
    /// and counts them off ``noticedTally``: they are no longer asked for, and no range waits for
    /// them (each was asked for too often, or every peer that announced it went away;
    /// reconciliation at the next link-up is the backstop). Ranges that waited only for them are
    /// acknowledged at the session's next ``acknowledgeSettled(_:session:into:)``.
    mutating func forgetAnnounced(_ keys: [NoticeKey], in replica: inout SessionReplica) {
        for key in keys {
            guard replica.noticed.removeValue(forKey: key) != nil else { continue }
            self.noticedTally -= 1
            for index in replica.waits.indices where !replica.waits[index].announced.isEmpty {
                replica.waits[index].announced.remove(key)
            }
        }
    }

    /// Whether `state`, a link of `session`, announces entries now: it is lazy, streaming, and
    /// has numbers to send within its window.
    func hasNoticesDue(_ state: LinkState, session: SessionID) -> Bool {
        guard self.configuration.forwarding.isTree, !state.isEager, !state.isShippingBlocked,
            let count = self.sessions[session]?.order.count
        else { return false }
        return state.sent < UInt64(count) && state.sent - state.acknowledged < self.configuration.maximumInFlight
    }
}
