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
    func cutTornAppends() {
        for session in self.records.intents.sessions() {
            guard let intent = self.records.intents.intent(of: session) else { continue }
            let log = SessionLog(layout: self.configuration.layout, sessionID: session)
            guard let status = try? log.fileStatus(), status.hasUnterminatedTail, status.size > intent.offset,
                status.size < intent.offset + intent.length
            else { continue }
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
}
