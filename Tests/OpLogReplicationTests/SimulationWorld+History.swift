import OpLog

@testable import OpLogReplication

// A large shared past: sessions of a few thousand entries, so that set reconciliation splits
// ranges rather than answering with ids at once.
extension SimulationWorld {
    /// Writes ``SimulationParameters/historyCount`` entries of the first session into every
    /// replica's file before the run starts, as if they had been replicated long ago. The first
    /// read-write replica holds all of them (it counts as their writer); every other replica
    /// lacks about one in fifty of those without children (so no file has a child without its
    /// parent), scattered through the log; a read-only replica's origin journal names the
    /// holder as where its history came from. Draws only from the history's own generator.
    func writeHistory() {
        let count = self.parameters.historyCount
        guard count > 0, let session = self.parameters.sessions.first,
            let holder = self.replicas.indices.first(where: { !self.replicas[$0].isReadOnly })
        else { return }
        var random = SplitMix64(seed: self.parameters.historySeed)
        var entries: [OpEntry] = []
        var hasChildren = [Bool](repeating: false, count: count)
        entries.reserveCapacity(count)
        for number in 0..<count {
            var parents: [OpID] = []
            if number > 0 {
                let roll = random.below(10)
                let parent = roll < 5 ? number - 1 : roll < 7 ? random.below(number) : nil
                if let parent {
                    parents = [entries[parent].opID]
                    hasChildren[parent] = true
                }
            }
            guard
                let entry = try? OpEntry.make(
                    actorID: "history-\(random.below(3))",
                    lamportTimestamp: number + 1,
                    parentOpIDs: parents,
                    domain: "music",
                    domainOp: .object(JSONObject([.init(key: "op", value: .string("insert")), .init(key: "h", value: .number(JSONNumber(number)))])),
                    createdAt: "2025-12-31T00:00:00+00:00"
                )
            else { preconditionFailure("a history entry could not be made") }
            entries.append(entry)
            self.made[entry.opID] = Made(entry: entry, origin: holder, hasMissingParent: false)
            self.madeOrder.append(entry.opID)
            self.lines[entry.line] = entry
        }
        for index in self.replicas.indices {
            var files = self.replicas[index].files[session] ?? SessionFiles()
            var origins: [NodeID?] = []
            for (number, entry) in entries.enumerated() {
                if index != holder, !hasChildren[number], random.chance(0.02) { continue }
                Self.record(entry, isValid: true, in: &files)
                files.bytes += entry.line
                files.bytes.append(UInt8(ascii: "\n"))
                origins.append(self.replicas[holder].node)
            }
            self.replicas[index].files[session] = files
            // A read-only replica got its history from a peer, and its host's origin journal says
            // so: otherwise it would take the entries for its own, which it never ships.
            if self.replicas[index].isReadOnly { self.replicas[index].savedOrigins[session] = origins }
        }
    }
}
