import Logging
import OpLog
import OpLogReplication

// The entry index: restoring each session's known entries at start without reading their lines,
// and keeping the index up to date as the engine numbers entries.
extension AgentCore {
    /// Gives the engine every session's entries from its index where the index still agrees
    /// with `ops.jsonl`, and makes the session's tail resume after them; an index that disagrees
    /// is removed (with a warning naming the reason), so that the scan that follows reads the
    /// whole file and writes the index again.
    ///
    /// Agreement: the file has the identity (device, inode) the index was started for, it
    /// reaches at least the offset the index resumes at, and the last indexed line is still there
    /// byte for byte (same digest, ended by `\n`). An edit further up in a file that kept its
    /// inode, size and last line goes unnoticed, as it would by a tail that stayed open.
    ///
    /// `restore` (what the journals hold) goes to the engine with those indexes, in one
    /// ``ReplicationEngine/restore(_:)``. Call first, before any line is fed.
    func restoreFromIndexes(_ restore: ReplicationEngine.Restore<IndexedEntries>) {
        var restore = restore
        var checked: [SessionID: (contents: EntryIndex.Contents, last: EntryIndex.StoredRecord, lastLine: [UInt8])] =
            [:]
        var maxima: [SessionID: LamportMaximum] = [:]
        for session in self.records.index.entryIndex.sessions() {
            let log = SessionLog(layout: self.configuration.layout, sessionID: session)
            let contents: EntryIndex.Contents
            switch self.records.index.entryIndex.load(session) {
            case .missing:
                continue
            case .unreadable:
                self.discardIndex(session, reason: "the index file is not an entry index")
                continue
            case .found(let found):
                contents = found
            }
            guard let last = contents.records.last else { continue }
            let lastLine: [UInt8]
            switch Self.check(contents, last: last, log: log) {
            case .success(let line):
                lastLine = line
            case .failure(let disagreement):
                self.discardIndex(session, reason: disagreement.message)
                continue
            }
            // Decoded lazily, record by record, as the engine takes them (one run per session, so
            // it sizes its tables once for the whole log), noting the greatest lamport_ts on the way.
            let maximum = LamportMaximum()
            maxima[session] = maximum
            restore.indexedEntries[session] = EntryIndex.Entries(contents: contents).lazy.map { entry in
                maximum.note(entry.key.lamport)
                return entry
            }
            checked[session] = (contents, last, lastLine)
        }
        for action in self.engine.restore(restore) { self.perform(action) }
        for (session, maximum) in maxima {
            if let lamport = maximum.value { self.files.noteLamport(lamport, session: session) }
        }
        for (session, (contents, last, lastLine)) in checked {
            let log = SessionLog(layout: self.configuration.layout, sessionID: session)
            let restored = UInt64(self.engine.durableCount(of: session))
            // A record that does not decode despite its checksum ended the entries there.
            var restoredRecords = 0
            var indexed: UInt64 = 0
            for record in contents.records where indexed + UInt64(record.count) <= restored {
                indexed += UInt64(record.count)
                restoredRecords += 1
            }
            var cursor = LogCursor()
            if restoredRecords > 0 {
                // Only the last record's line was checked; an earlier stop resumes unchecked.
                let record = contents.records[restoredRecords - 1]
                let isLast = restoredRecords == contents.records.count
                cursor = LogCursor(
                    offset: record.resumeOffset,
                    nextLineNumber: record.resumeLineNumber,
                    lastEntry: isLast ? (last.lastEntry.offset, lastLine) : nil
                )
            }
            if restoredRecords < contents.records.count {
                self.records.index.entryIndex.keep(restoredRecords, of: contents, session: session)
            }
            self.records.index.indexedCount[session] = indexed
            if restored != indexed {
                // The engine knew some of them already: the index no longer lines up with its
                // sequence numbers. Read on from where the index stops; write no more of it.
                self.stopIndexing(session)
            }
            self.records.index.restoredFromIndex += Int(restored)
            self.files.tails[session] = SessionTail(log: log, resumingAt: cursor)
        }
    }

    /// Why an index does not describe the file any more.
    struct IndexDisagreement: Error {
        var message: String
    }

    /// Checks the index against the file; returns the last indexed line as the file holds it.
    static func check(
        _ contents: EntryIndex.Contents,
        last: EntryIndex.StoredRecord,
        log: SessionLog
    ) -> Result<[UInt8], IndexDisagreement> {
        let status: LogFileStatus
        do {
            guard let found = try log.fileStatus() else {
                return .failure(IndexDisagreement(message: "ops.jsonl is missing"))
            }
            status = found
        } catch {
            return .failure(IndexDisagreement(message: "ops.jsonl cannot be read: \(error.message)"))
        }
        guard status.device == contents.device, status.inode == contents.inode else {
            return .failure(IndexDisagreement(message: "ops.jsonl was replaced"))
        }
        guard status.size >= last.resumeOffset else {
            return .failure(IndexDisagreement(message: "ops.jsonl is shorter than the index says"))
        }
        let start = last.lastEntry.offset
        let end = start + Int64(last.lastEntry.length) + 1
        let bytes: [UInt8]
        let boundary: [UInt8]
        do {
            bytes = try log.readBytes(in: start..<end)
            boundary = try log.readBytes(in: (last.resumeOffset - 1)..<last.resumeOffset)
        } catch {
            return .failure(IndexDisagreement(message: "ops.jsonl cannot be read: \(error.message)"))
        }
        guard bytes.count == Int(last.lastEntry.length) + 1, bytes.last == UInt8(ascii: "\n"),
            boundary == [UInt8(ascii: "\n")],
            IndexedEntry.lineDigest(of: bytes.dropLast()) == last.lastLineDigest
        else {
            return .failure(IndexDisagreement(message: "the last indexed line of ops.jsonl changed"))
        }
        return .success(Array(bytes.dropLast()))
    }

    /// Removes a session's index that disagrees with its log, with one warning line.
    func discardIndex(_ session: SessionID, reason: String) {
        self.logger.warning(
            "entry index does not match ops.jsonl; rebuilding it from the file",
            metadata: ["session": "\(session)", "reason": "\(reason)"]
        )
        self.records.index.entryIndex.remove(session)
    }

    /// Appends the engine's newly numbered entries to the session's index, skipping those it
    /// holds; the record resumes where the session's tail stands, which has read every line
    /// up to there.
    func recordIndex(session: SessionID, firstSequence: UInt64, entries: [IndexedEntry], lastLineDigest: UInt64) {
        guard !self.records.index.unindexedSessions.contains(session), let lastEntry = entries.last else { return }
        let recorded = self.records.index.indexedCount[session] ?? 0
        let last = firstSequence + UInt64(entries.count) - 1
        guard last > recorded else { return }
        let lastEnd = lastEntry.location.offset + Int64(lastEntry.location.length) + 1
        guard firstSequence <= recorded + 1, let tail = self.files.tails[session], tail.offset >= lastEnd else {
            // A gap, or the tail is not past these lines: the index could not resume right.
            self.stopIndexing(session)
            return
        }
        let log = SessionLog(layout: self.configuration.layout, sessionID: session)
        do {
            if recorded == 0 {
                let identity = tail.fileIdentity ?? (try? log.fileStatus()).map { (device: $0.device, inode: $0.inode) }
                guard let identity else {
                    self.stopIndexing(session)
                    return
                }
                try self.records.index.entryIndex.create(session, device: identity.device, inode: identity.inode)
            }
            let record = EntryIndex.Record(
                firstSequence: recorded + 1,
                entries: Array(entries[Int(recorded + 1 - firstSequence)...]),
                resumeOffset: tail.offset,
                resumeLineNumber: tail.nextLineNumber,
                lastLineDigest: lastLineDigest
            )
            try self.records.index.entryIndex.append(record, session: session)
            self.records.index.indexedCount[session] = last
        } catch {
            self.logger.warning(
                "cannot write the entry index; the next start reads the whole log",
                metadata: ["session": "\(session)", "error": "\(error.message)"]
            )
            self.stopIndexing(session)
        }
    }

    /// Writes no more of the session's index in this run, and removes it: the engine's entries
    /// no longer match the file's lines one for one (the file was replaced), or a record could
    /// not be written. The next start reads the whole file and writes a new index.
    /// The engine renumbers the session from 1 (its file was reset): what is kept by sequence
    /// number goes — the origin journal, the index (not written again in this run), and every
    /// peer's recorded progress (0).
    func resetSession(_ session: SessionID) {
        self.records.journals.resetSession(session, logger: self.logger)
        self.stopIndexing(session)
        self.records.index.indexedCount[session] = nil
        self.progress.resetSession(session)
        self.files.forgetLamport(session)
        self.status.timeline.forget(session)
    }

    func stopIndexing(_ session: SessionID) {
        guard self.records.index.unindexedSessions.insert(session).inserted else { return }
        self.records.index.entryIndex.remove(session)
    }
}

/// The entries of a session's index as the engine restores them: decoded record by record.
typealias IndexedEntries = LazyMapSequence<EntryIndex.Entries, IndexedEntry>

/// The greatest `lamport_ts` seen while the entries of an index go by, without a second pass.
final class LamportMaximum {
    private(set) var value: UInt64?

    func note(_ lamport: UInt64) {
        if self.value.map({ lamport > $0 }) ?? true { self.value = lamport }
    }
}
