import OpLog

// Staging: which received and held entries are written now, in what order, and which wait.
extension ReplicationEngine {
    /// Decides which of `incoming` and the session's held entries can be written now, asks for
    /// them to be appended in causal-canonical order, and holds the rest. While an append of the
    /// session is in flight (or waits to be retried) everything waits, so that nothing is
    /// written ahead of entries that may have to be written again.
    mutating func stage(
        _ incoming: [(entry: OpEntry, origin: Origin)],
        replica: inout SessionReplica,
        session: SessionID,
        now: Duration,
        into actions: inout [ReplicationAction]
    ) {
        guard !incoming.isEmpty || !replica.held.isEmpty || !replica.deferred.isEmpty else { return }
        if replica.appendInFlight != nil || replica.appendRetryAt.map({ now < $0 }) == true {
            // Kept in arrival order (which is canonical for a peer's stream), so that the next
            // plan usually finds them in order.
            replica.deferred.reserveCapacity(replica.deferred.count + incoming.count)
            for (entry, origin) in incoming {
                replica.deferred.append(HeldEntry(entry: entry, origin: origin, since: now))
                replica.status[entry.opID] = .held
                self.heldTally.add(entry)
            }
            return
        }
        replica.appendRetryAt = nil
        var pool: [HeldEntry] = []
        pool.reserveCapacity(incoming.count + replica.held.count + replica.deferred.count)
        pool.append(contentsOf: replica.held.values)
        pool.append(contentsOf: replica.deferred)
        for (entry, origin) in incoming {
            pool.append(HeldEntry(entry: entry, origin: origin, since: now))
        }
        // Everything waiting is in the pool now: what stays blocked is held again below.
        for held in replica.held.values { self.heldTally.remove(held.entry) }
        for held in replica.deferred { self.heldTally.remove(held.entry) }
        replica.held = [:]
        replica.deferred = []
        let holdTimeout = self.configuration.holdTimeout
        let entries = pool.map(\.entry)
        func planWrite(releasing released: [Bool]) -> CausalOrder.Plan {
            CausalOrder.plan(
                entries,
                isKnown: { id in
                    switch replica.status[id] {
                    case .indexed, .written, .pending: true
                    case .held, nil: false
                    }
                },
                isExpired: { index in (!released.isEmpty && released[index]) || pool[index].since + holdTimeout <= now }
            )
        }
        var plan = planWrite(releasing: [])
        let blockedBytes = plan.blocked.reduce(0) { $0 + pool[$1].entry.line.count }
        if self.heldTally.bytes + blockedBytes > self.configuration.maximumHeldBytes {
            // Past the bound, the oldest stop waiting (with what they wait for in the pool), as
            // if their hold had run out: written as orphans, never dropped.
            let excess = self.heldTally.bytes + blockedBytes - self.configuration.maximumHeldBytes
            plan = planWrite(releasing: Self.oldest(plan.blocked, of: pool, coveringBytes: excess))
        }
        if !plan.ready.isEmpty {
            let token = self.pendingAppends.issueToken()
            var lines: [[UInt8]] = []
            var written: [HeldEntry] = []
            var orphans = 0
            lines.reserveCapacity(plan.ready.count)
            written.reserveCapacity(plan.ready.count)
            replica.status.reserveCapacity(replica.status.count + plan.ready.count)
            for index in plan.ready {
                let held = pool[index]
                let id = held.entry.opID
                // An orphan: a parent neither known nor written before it in this append (none
                // when the plan found every parent in place).
                let isOrphan =
                    !plan.hasEveryParent
                    && held.entry.parentOpIDs.contains { parent in
                        switch replica.status[parent] {
                        case .indexed, .written, .pending: false
                        case .held, nil: true
                        }
                    }
                if isOrphan { orphans += 1 }
                replica.status[id] = .pending(token: token)
                lines.append(held.entry.line)
                written.append(held)
            }
            self.pendingAppends.byToken[token] = PendingAppend(session: session, entries: written)
            replica.appendInFlight = token
            if orphans > 0 {
                // Reported before the append, so the warning is in the log by the time the
                // entries are in the file.
                self.statistics.orphansWritten += orphans
                actions.append(.report(.orphansWritten(session: session, count: orphans)))
            }
            if self.configuration.isReadOnly {
                let arrivals = written.compactMap { held in
                    self.node(of: held.origin).map { Arrival(opID: held.entry.opID, peer: $0) }
                }
                if !arrivals.isEmpty { actions.append(.recordArrivals(session: session, arrivals: arrivals)) }
            }
            actions.append(.append(AppendRequest(token: token, session: session, lines: lines)))
        }
        for index in plan.blocked {
            self.hold(pool[index], in: &replica)
        }
    }

    /// Keeps `held` waiting, unless it already is.
    mutating func hold(_ held: HeldEntry, in replica: inout SessionReplica) {
        guard replica.held[held.entry.opID] == nil else { return }
        replica.held[held.entry.opID] = held
        replica.status[held.entry.opID] = .held
        self.heldTally.add(held.entry)
    }

    /// Which of the `blocked` entries of `pool` to release so that at least `excess` line bytes
    /// stop waiting: the oldest first (ties in pool order), each with its ancestors among the
    /// blocked ones, which it would otherwise keep waiting behind. Indexed like `pool`.
    static func oldest(_ blocked: [Int], of pool: [HeldEntry], coveringBytes excess: Int) -> [Bool] {
        var released = [Bool](repeating: false, count: pool.count)
        var position: [OpID: Int] = [:]
        position.reserveCapacity(blocked.count)
        for index in blocked { position[pool[index].entry.opID] = index }
        let byAge = blocked.sorted { (pool[$0].since, $0) < (pool[$1].since, $1) }
        var remaining = excess
        for index in byAge where remaining > 0 {
            var stack = [index]
            while let next = stack.popLast() {
                guard !released[next] else { continue }
                released[next] = true
                remaining -= pool[next].entry.line.count
                for parent in pool[next].entry.parentOpIDs {
                    if let parentIndex = position[parent] { stack.append(parentIndex) }
                }
            }
        }
        return released
    }
}
