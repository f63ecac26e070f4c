import ArgumentParser
import OpLog

/// `oplog-sync verify`: check logs against the replica invariants.
struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check op logs: lines parse, no op_id repeats, parents precede children, sha256: ids match.",
        discussion: """
            Prints one finding per line as SESSION:LINE: KIND: DETAIL and exits 1 if any is a \
            problem, 0 if the logs are clean. Parents missing from the session are printed as \
            warnings and an unfinished last line as a note; neither fails verification.
            """
    )

    @OptionGroup var rootOptions: RootOptions

    @Option(name: .long, help: ArgumentHelp("Verify only this session.", valueName: "id"))
    var session: String?

    func validate() throws {
        if let session = self.session {
            do {
                _ = try SessionID(validating: session)
            } catch {
                throw ValidationError(error.message)
            }
        }
    }

    func run() throws {
        let layout = self.rootOptions.layout
        let sessions = try self.session.map { [try SessionID(validating: $0)] } ?? layout.sessions()
        _ = try layout.sessions()  // a missing root is an error, not a clean result
        var output = StandardOutput()
        var problems = 0
        let verifier = LogVerifier()
        for session in sessions {
            for finding in try verifier.verify(SessionLog(layout: layout, sessionID: session)) {
                output.writeLine(finding.description)
                if finding.isProblem { problems += 1 }
            }
        }
        output.flush()
        StandardError.write(
            problems == 0
                ? "oplog-sync: verified \(sessions.count) session(s): clean"
                : "oplog-sync: verified \(sessions.count) session(s): \(problems) problem(s)"
        )
        if problems > 0 { throw CommandFailure(exitCode: 1) }
    }
}
