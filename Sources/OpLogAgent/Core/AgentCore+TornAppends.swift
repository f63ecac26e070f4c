import Logging
import OpLog
import OpLogReplication

// Appends cut short by a crash: found and cut off at start, before any line is read.
extension AgentCore {
    /// Cuts off the torn end of each session's last append, where the log ends in an
    /// unfinished line that began inside that append (``AppendIntents``): what a SIGKILL in the
    /// middle of the node's `write(2)` leaves. The entries it held were never acknowledged, so
    /// their senders send them again. An unfinished line that began before the append (a Muse
    /// writer's) is left for the usual rule (closed with `\n` once stale).
    ///
    /// When a writer appended after the torn end before this start (Muse keeps writing while
    /// the node is down), its first line is glued to that end: the glued line is no entry, and
    /// the writer's entry in it would be lost. The torn part is blanked, which leaves the
    /// writer's entry as the line (``salvageGluedLine(session:intent:log:size:)``).
    func cutTornAppends() {
        for session in self.records.intents.sessions() {
            guard let intent = self.records.intents.intent(of: session) else { continue }
            let log = SessionLog(layout: self.configuration.layout, sessionID: session)
            guard let status = try? log.fileStatus(), status.size > intent.offset else { continue }
            guard status.hasUnterminatedTail, status.size < intent.offset + intent.length else {
                self.salvageGluedLine(session: session, intent: intent, log: log, size: status.size)
                continue
            }
            let from = max(intent.offset - 1, 0)
            guard let bytes = try? log.readBytes(in: from..<status.size) else { continue }
            let lineStart: Int64
            if let newline = bytes.lastIndex(of: UInt8(ascii: "\n")) {
                lineStart = from + Int64(newline) + 1
            } else if from == 0 {
                lineStart = 0
            } else {
                continue
            }
            guard lineStart >= intent.offset else { continue }
            do {
                let appender = try SessionAppender(opening: log)
                if try appender.cutUnfinishedLine(startingAt: lineStart, size: status.size) {
                    self.logger.warning(
                        "cut off the unfinished end of an append a crash cut short",
                        metadata: ["session": "\(session)", "bytes": "\(status.size - lineStart)"]
                    )
                }
            } catch {
                self.logger.warning(
                    "cannot cut the unfinished end of an append a crash cut short",
                    metadata: ["session": "\(session)", "error": "\(error.message)"]
                )
            }
        }
    }

    /// The longest line searched past the recorded append for a glued writer's line.
    static let maximumGluedLineBytes: Int64 = 1 << 20

    /// Finds the line a writer glued to the torn end of the node's last append and writes
    /// spaces over the torn part, so that the line is the writer's entry again (JSON allows
    /// leading spaces; its op id and content id are the writer's); logs it. Does nothing when
    /// that append completed (its last byte, `\n`, is where it should be), or when no line that
    /// starts inside it ends in an entry.
    ///
    /// The glued line starts inside the append (after its last complete line) and runs past
    /// the tear into the writer's line; the writer's entry is the longest suffix of it, from a
    /// `{`, that parses as an entry. The bytes before it are the node's own torn line, whose
    /// entries their sender sends again.
    private func salvageGluedLine(session: SessionID, intent: AppendIntents.Intent, log: SessionLog, size: Int64) {
        // `length` counts one byte for a `\n` closing a stale tail first, which may not have
        // been written: the append ended at `offset + length - 1` without it, one later with it.
        let end = min(size, intent.offset + intent.length + Self.maximumGluedLineBytes)
        guard let bytes = try? log.readBytes(in: intent.offset..<end), !bytes.isEmpty else { return }
        let newline = UInt8(ascii: "\n")
        let closedTail = bytes[0] == newline
        let last = Int(intent.length) - (closedTail ? 1 : 2)
        // Complete when its last byte is there and is `\n`; a file that now ends before that
        // byte is the usual torn case (the writer added less than the tear lost).
        if last < bytes.count, bytes[last] == newline { return }
        var start = closedTail ? 1 : 0
        while start < Int(intent.length), let stop = bytes[start...].firstIndex(of: newline) {
            let line = bytes[start..<stop]
            start = stop + 1
            guard (try? OpEntry(line: line)) == nil else { continue }
            // Not an entry: the glued line. The writer's entry starts at one of its `{`.
            var candidate = line.index(after: line.startIndex)
            while let brace = line[candidate...].firstIndex(of: UInt8(ascii: "{")) {
                if let entry = try? OpEntry(line: line[brace...]) {
                    let torn = (intent.offset + Int64(line.startIndex))..<(intent.offset + Int64(brace))
                    self.blank(torn, expecting: Array(line[..<brace]), entry: entry, session: session, log: log)
                    return
                }
                candidate = line.index(after: brace)
            }
            return
        }
    }

    private func blank(_ torn: Range<Int64>, expecting: [UInt8], entry: OpEntry, session: SessionID, log: SessionLog) {
        do throws(OpLogError) {
            let appender = try SessionAppender(opening: log)
            guard try appender.blank(torn, expecting: expecting) else { return }
            self.logger.warning(
                "a writer's line was glued to the torn end of an append a crash cut short; the torn part is blanked",
                metadata: ["session": "\(session)", "op_id": "\(entry.opID)", "bytes": "\(torn.count)"]
            )
        } catch {
            self.logger.warning(
                "cannot blank the torn end of an append a crash cut short, which a writer's line is glued to",
                metadata: ["session": "\(session)", "op_id": "\(entry.opID)", "error": "\(error.message)"]
            )
        }
    }
}
