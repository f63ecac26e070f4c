import ArgumentParser
import OpLog

/// `oplog-sync delta`: Muse's structured delta of a session since its checkpoint.
struct DeltaCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delta",
        abstract: "Print the structured delta of one domain since the checkpoint.",
        discussion: """
            Prints {"domain","ops","summary"} as one JSON line: the domain_op of every entry \
            since the checkpoint in that domain, in canonical order, and a summary counting them \
            by their "op" field in Muse's format ("1 delete, 2 insert", or "no ops").
            """
    )

    @OptionGroup var sessionOptions: SessionOptions

    @Option(name: .long, help: ArgumentHelp("Domain tag to collapse, such as music.", valueName: "domain"))
    var domain: String

    func run() throws {
        let log = try self.sessionOptions.opLog
        let (entries, summary) = try log.log.readAll()
        reportSkippedLines(summary, session: log.sessionID)
        let delta = StructuredDelta(domain: self.domain, entries: try log.entriesSinceCheckpoint(of: entries))
        var output = StandardOutput()
        output.writeLine(PythonJSON.compact(delta.jsonValue))
        output.flush()
    }
}
