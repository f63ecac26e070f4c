import ArgumentParser
import Logging
import OpLog

/// `oplog-sync log`: a session's entries as JSON lines.
struct LogCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log",
        abstract: "Print a session's entries as JSON lines, byte for byte as stored.",
        discussion: """
            Entries print in file order, or with --canonical in the canonical order \
            (lamport_ts, actor_id, op_id) that every replica agrees on. --since-checkpoint keeps \
            only entries the current checkpoint does not cover (by its per-actor frontier when \
            it has one, else by its lamport_ts, as Muse does). Lines that are not entries are \
            skipped with a warning on stderr; an unfinished last line is not an entry yet. A \
            session without ops.jsonl prints nothing.
            """
    )

    @OptionGroup var sessionOptions: SessionOptions

    @Flag(name: .long, help: "Order by (lamport_ts, actor_id, op_id) instead of file order.")
    var canonical = false

    @Flag(name: .long, help: "Only entries the current checkpoint does not cover.")
    var sinceCheckpoint = false

    func run() throws {
        let log = try self.sessionOptions.opLog
        let (all, summary) = try log.log.readAll()
        reportSkippedLines(summary, session: log.sessionID)
        var entries = self.sinceCheckpoint ? try log.entriesSinceCheckpoint(of: all) : all
        if self.canonical { entries = entries.canonicallySorted() }
        var output = StandardOutput()
        for entry in entries { output.writeLine(entry.line) }
        output.flush()
    }
}

/// Logs a warning naming the first few lines a read skipped.
func reportSkippedLines(_ summary: ScanSummary, session: SessionID) {
    guard summary.rejectedLineCount > 0 else { return }
    let logger = Logger(label: "oplog-sync")
    let first = summary.rejectedLines.prefix(5).map(\.description).joined(separator: "; ")
    logger.warning(
        "skipped lines that are not entries",
        metadata: [
            "session.id": "\(session)",
            "lines.skipped": "\(summary.rejectedLineCount)",
            "lines.first": "\(first)",
        ]
    )
}
