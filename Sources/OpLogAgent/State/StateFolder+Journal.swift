import OpLog
import SystemPackage

// Reading an append-only journal back, record by record.
extension StateFolder {
    /// What a journal reader does with a complete line that is not a record (two records glued
    /// by a crash mid-write, damage) or a line too long to be one.
    enum DamagedRecord: Sendable {
        /// Skip it and read on: for records that stand alone (arrivals by op id).
        case skip
        /// End the journal there and cut it off: for records whose place matters (runs of
        /// sequence numbers), where everything after a damaged one would be misplaced.
        case endJournal
    }

    /// The longest record a journal reader holds; a longer line counts as damaged.
    static let maximumRecordLength = 64 << 10

    /// Reads the journal `file` one line at a time in bounded memory (one buffer, never the
    /// whole file), handing each complete line, without its `\n`, to `record`, which returns
    /// whether it is a record. A missing file is an empty journal.
    ///
    /// The bytes after the last `\n` (a record torn by a crash), and with
    /// ``DamagedRecord/endJournal`` everything from the first damaged line on, are cut off the
    /// file, so that records appended later are read back too.
    ///
    /// - Throws: ``AgentError`` `.io` (`cannot <action> <path>: <errno>`) when the file exists
    ///   but cannot be read or cut.
    /// - Complexity: O(file size); memory O(``maximumRecordLength``) plus one read buffer.
    func readJournal(
        _ file: StateFile,
        ifDamaged policy: DamagedRecord,
        action: String,
        _ record: (UnsafeBufferPointer<UInt8>) -> Bool
    ) throws(AgentError) {
        let path = self.path(of: file)
        let descriptor: FileDescriptor
        do {
            descriptor = try FileDescriptor.open(path, .readOnly, options: [.noFollow, .closeOnExec])
        } catch let error as Errno where error == .noSuchFileOrDirectory {
            return
        } catch {
            throw AgentError(code: .io, message: "cannot \(action) \(path): \(error)", cause: error)
        }
        defer { try? descriptor.close() }
        let reader = LineReader(descriptor: descriptor, maximumLineLength: Self.maximumRecordLength)
        var validLength: Int64?
        do {
            let end = try reader.read(from: 0, firstLineNumber: 1) { (event: LineEvent) throws(DamagedAt) in
                switch event {
                case .line(let bytes, let position):
                    // The reader may hand over lines longer than its limit (up to its buffer).
                    if (bytes.count <= Self.maximumRecordLength && record(bytes)) || policy == .skip { return }
                    throw DamagedAt(offset: position.offset)
                case .oversized(let position, _):
                    if policy == .skip { return }
                    throw DamagedAt(offset: position.offset)
                }
            }
            if end.unterminatedTailLength > 0 { validLength = end.endOffset }
        } catch {
            switch error {
            case .body(let damage):
                validLength = damage.offset
            case .io(let error):
                let cause = error.cause ?? error
                throw AgentError(code: .io, message: "cannot \(action) \(path): \(cause)", cause: error)
            }
        }
        if let validLength {
            // A record torn by a crash: cut it off, or every record appended after it would
            // be glued to it and unreadable too.
            try self.truncate(file, to: validLength, action: "cut the torn record off")
        }
    }
}

/// Where a journal reader met a damaged record.
private struct DamagedAt: Error {
    /// Where the damaged record starts.
    var offset: Int64
}
