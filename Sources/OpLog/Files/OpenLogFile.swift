import SystemPackage

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A session's `ops.jsonl`, open for reading for the length of one operation.
struct OpenLogFile {
    let descriptor: FileDescriptor
    /// The file's path, for messages.
    let path: FilePath

    /// Index records of the entries from `start`; see ``SessionLog/scan(from:firstLineNumber:_:)``.
    func scan(
        from start: Int64,
        firstLineNumber: Int,
        _ body: (OpIndexRecord) throws(OpLogError) -> Void
    ) throws(OpLogError) -> ScanSummary {
        try self.readLines(from: start, firstLineNumber: firstLineNumber) { bytes, position throws(OpLogError) in
            let fields = try EntryFields.decode(bytes)
            try body(
                OpIndexRecord(
                    opID: fields.opID,
                    actorID: fields.actorID,
                    lamportTimestamp: fields.lamportTimestamp,
                    parentOpIDs: fields.parentOpIDs,
                    position: position,
                    length: bytes.count
                )
            )
        }
    }

    /// The shared loop over complete lines: blank lines are counted and skipped; an
    /// `.invalidJSON` or `.invalidEntry` error from `decode` rejects the line and the pass goes
    /// on; any other error stops the pass and is rethrown.
    func readLines(
        from start: Int64,
        firstLineNumber: Int,
        byteLimit: Int64 = .max,
        _ decode: (UnsafeBufferPointer<UInt8>, LinePosition) throws(OpLogError) -> Void
    ) throws(OpLogError) -> ScanSummary {
        var summary = ScanSummary(endOffset: start, nextLineNumber: firstLineNumber)
        let reader = LineReader(descriptor: self.descriptor)
        let end: LineReadEnd
        do throws(LineReadFailure<OpLogError>) {
            end = try reader.read(from: start, firstLineNumber: firstLineNumber, byteLimit: byteLimit) {
                event throws(OpLogError) in
                summary.lineCount += 1
                switch event {
                case .oversized(let position, let length):
                    summary.reject(
                        position,
                        OpLogError(
                            code: .invalidEntry,
                            message: "line of \(length) bytes exceeds the \(reader.maximumLineLength)-byte limit"
                        )
                    )
                case .line(let bytes, let position):
                    if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) {
                        summary.blankLineCount += 1
                        return
                    }
                    do throws(OpLogError) {
                        try decode(bytes, position)
                        summary.entryCount += 1
                    } catch  where error.code == .invalidJSON || error.code == .invalidEntry {
                        summary.reject(position, error)
                    }
                }
            }
        } catch {
            switch error {
            case .io(let failure), .body(let failure): throw failure
            }
        }
        summary.endOffset = end.endOffset
        summary.nextLineNumber = end.nextLineNumber
        summary.unterminatedTailLength = end.unterminatedTailLength
        summary.isPartial = end.isPartial
        return summary
    }

    /// The bytes in `range`, fewer if the file ends first.
    func readBytes(in range: Range<Int64>) throws(OpLogError) -> [UInt8] {
        guard !range.isEmpty else { return [] }
        var bytes = [UInt8](repeating: 0, count: range.count)
        var filled = 0
        while filled < bytes.count {
            let count = bytes.withUnsafeMutableBytes { raw in
                pread(
                    self.descriptor.rawValue,
                    raw.baseAddress.map { $0 + filled },
                    raw.count - filled,
                    off_t(range.lowerBound) + off_t(filled)
                )
            }
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else {
                throw OpLogError(code: .io, message: "cannot read \(self.path)", cause: Errno(rawValue: errno))
            }
            if count == 0 { break }
            filled += count
        }
        return Array(bytes[0..<filled])
    }

    /// The file's device, inode and size now (one `fstat`, no read).
    func identityAndSize() throws(OpLogError) -> (device: UInt64, inode: UInt64, size: Int64) {
        var info = stat()
        guard fstat(self.descriptor.rawValue, &info) == 0 else {
            throw OpLogError(code: .io, message: "cannot stat \(self.path)", cause: Errno(rawValue: errno))
        }
        return (UInt64(info.st_dev), UInt64(info.st_ino), Int64(info.st_size))
    }

    /// The file's identity, size and tail now.
    func status() throws(OpLogError) -> LogFileStatus {
        try LogFileStatus(descriptor: self.descriptor, path: self.path)
    }
}
