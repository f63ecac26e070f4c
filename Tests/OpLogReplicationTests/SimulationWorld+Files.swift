import OpLog

@testable import OpLogReplication

// Byte-level faults of the files themselves, beyond the writers mid-append of
// SimulationWorld+Writers.swift.
extension SimulationWorld {
    /// While replica `index` is down, one of its session files is put back to an older copy: cut
    /// after an earlier line, as a restore from a backup leaves it. Only lines that another
    /// replica's file also holds are cut, so nothing is lost for good; they must come back.
    ///
    /// The host then does what a host must with its state folder: the entry index no longer
    /// agrees with the file and is dropped, the origin journal is cut to the entries left, and
    /// progress recorded beyond them is dropped (a prefix keeps the sequence numbers of what
    /// is left, so the rest stays true).
    ///
    /// On unless `OPLOG_SIM_FILE_CUTS=0`. Runs that did not converge before (lossy seed 134,
    /// stream seed 42: the replica never got back entries it lost) were a peer that found the
    /// replica lacking everything and still kept to the no-echo rule; they converge now.
    ///
    /// With `isRunning`, the replica is up: the file is cut (replaced by a shorter copy, or
    /// truncated in place) under the running engine, and the host does what the agent does when
    /// its tail sees it: it feeds the file as it is now with `.localFileReset`, and the engine
    /// tells it (`.resetSession`) what to drop of its state folder.
    func cutFile(at index: Int, isRunning: Bool = false) {
        let sessions = self.replicas[index].files.keys.sorted().filter { self.replicas[index].files[$0]?.unfinished == nil }
        guard !sessions.isEmpty else { return }
        let session = sessions[self.fileRandom.below(sessions.count)]
        guard let files = self.replicas[index].files[session] else { return }
        let lines = files.bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).dropLast().map(Array.init)
        // The earliest line from which every later one is also in another replica's file.
        var earliest = lines.count
        while earliest > 0 {
            guard let entry = self.entry(for: lines[earliest - 1]), self.made[entry.opID] != nil,
                self.replicas.indices.contains(where: { $0 != index && self.replicas[$0].files[session]?.opIDs.contains(entry.opID) == true })
            else { break }
            earliest -= 1
        }
        guard earliest < lines.count else { return }
        let kept = self.fileRandom.within(earliest...(lines.count - 1))
        var cut = SessionFiles()
        cut.checkpoint = files.checkpoint
        cut.checkpointVersion = files.checkpointVersion
        cut.fedCheckpointVersion = files.fedCheckpointVersion
        cut.history = files.history
        var valid = 0
        var seen = Set<OpID>()
        for line in lines.prefix(kept) {
            if let entry = self.entry(for: line) {
                Self.record(entry, isValid: self.made[entry.opID] != nil, in: &cut)
                if files.writtenHere.contains(entry.opID) { cut.writtenHere.insert(entry.opID) }
                // The engine numbers the first occurrence of each valid entry.
                if self.badLocal[entry.opID] == nil, seen.insert(entry.opID).inserted { valid += 1 }
            }
            cut.bytes += line
            cut.bytes.append(UInt8(ascii: "\n"))
        }
        if isRunning {
            cut.watchedOffset = cut.bytes.count
            self.replicas[index].files[session] = cut
            self.runningFileCuts += 1
            var locals: [LocalEntry] = []
            var offset = 0
            while let newline = cut.bytes[offset...].firstIndex(of: UInt8(ascii: "\n")) {
                if let entry = self.entry(for: Array(cut.bytes[offset..<newline])) {
                    locals.append(LocalEntry(entry: entry, offset: Int64(offset)))
                }
                offset = newline + 1
            }
            self.feed(.localFileReset(session: session, entries: locals), to: index)
            return
        }
        self.replicas[index].files[session] = cut
        self.fileCuts += 1
        self.replicas[index].savedIndex[session] = nil
        if let origins = self.replicas[index].savedOrigins[session], origins.count > valid {
            self.replicas[index].savedOrigins[session] = Array(origins.prefix(valid))
        }
        for peer in self.replicas[index].savedProgress.keys {
            if let acknowledged = self.replicas[index].savedProgress[peer]?[session], acknowledged > UInt64(valid) {
                self.replicas[index].savedProgress[peer]?[session] = nil
            }
        }
    }
}
