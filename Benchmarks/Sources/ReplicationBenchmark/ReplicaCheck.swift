/// Whether a file holds exactly the lines written, byte for byte, each once, in any order.
struct ReplicaCheck {
    /// Complete lines in the file.
    var lineCount = 0
    /// Lines written that the file lacks.
    var missing = 0
    /// Extra copies of lines written.
    var duplicated = 0
    /// Lines that were not written (unknown op id, or bytes that differ from the line written).
    var unexpected = 0
    /// Bytes after the last `\n`.
    var unterminatedBytes = 0
    /// Why the file could not be read, if it could not.
    var failure: String?

    /// Whether the file holds exactly the lines written.
    var isExact: Bool {
        self.failure == nil && self.missing == 0 && self.duplicated == 0 && self.unexpected == 0
            && self.unterminatedBytes == 0
    }

    /// Checks `path` against the first `written` lines of `lines`.
    init(path: String, lines: LineSet, written: Int) {
        let bytes: [UInt8]
        do throws(BenchmarkError) {
            bytes = try FileBytes.contents(of: path)
        } catch {
            self.failure = error.description
            return
        }
        var copies = [Int](repeating: 0, count: written)
        var start = bytes.startIndex
        while let end = bytes[start...].firstIndex(of: UInt8(ascii: "\n")) {
            let line = bytes[start...end]
            start = end + 1
            self.lineCount += 1
            guard let opID = LineSet.opID(of: line), let index = lines.indexByOpID[opID], index < written,
                line.elementsEqual(lines.lines[index])
            else {
                self.unexpected += 1
                continue
            }
            copies[index] += 1
        }
        self.unterminatedBytes = bytes.count - start
        for count in copies {
            if count == 0 { self.missing += 1 }
            if count > 1 { self.duplicated += count - 1 }
        }
    }

    /// One line for the report: "200020 lines, exact" or what is wrong.
    var summary: String {
        if let failure { return "unreadable: \(failure)" }
        var text = "\(self.lineCount) lines, " + (self.isExact ? "exact" : "NOT EXACT:")
        if self.missing > 0 { text += " \(self.missing) missing" }
        if self.duplicated > 0 { text += " \(self.duplicated) duplicated" }
        if self.unexpected > 0 { text += " \(self.unexpected) unexpected" }
        if self.unterminatedBytes > 0 { text += " \(self.unterminatedBytes) bytes after the last newline" }
        return text
    }

    /// Waits until the files' sizes have not changed for `quietMilliseconds` (at most
    /// `limitSeconds`), so that a late duplicate or echo is in the file before it is checked.
    static func waitUntilQuiet(_ paths: [String], quietMilliseconds: Int = 500, limitSeconds: Int = 10) {
        let deadline = MonotonicClock.now() + UInt64(limitSeconds) * 1_000_000_000
        var sizes = paths.map(FileBytes.size)
        var quietSince = MonotonicClock.now()
        while MonotonicClock.now() < deadline {
            MonotonicClock.sleep(milliseconds: 50)
            let now = paths.map(FileBytes.size)
            if now != sizes {
                sizes = now
                quietSince = MonotonicClock.now()
            } else if MonotonicClock.now() - quietSince >= UInt64(quietMilliseconds) * 1_000_000 {
                return
            }
        }
    }
}
