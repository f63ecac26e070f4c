import ArgumentParser
import OpLog
import SystemPackage

/// `oplog-sync verify`: check logs against the replica invariants, or compare two replicas.
struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check op logs: lines parse, no op_id repeats, parents precede children, sha256: ids match.",
        discussion: """
            Prints one finding per line as SESSION:LINE: KIND: DETAIL and exits 1 if any is a \
            problem, 0 if the logs are clean. Parents missing from the session are printed as \
            warnings and an unfinished last line as a note; neither fails verification. A \
            checkpoint.json that is not a checkpoint (after half a second of rereading, as Muse \
            may be rewriting it) is a problem, printed as SESSION:checkpoint.json: invalid \
            checkpoint: PATH: WHY.

            With --against DIR, compares instead each session with the same session under DIR \
            and prints every op_id whose line differs, as SESSION: op_id ID differs: line N of \
            FILE, line M of OTHER_FILE; exits 1 if any does, 0 if none. Entries only one side \
            has are not differences.
            """
    )

    @OptionGroup var rootOptions: RootOptions

    @Option(name: .long, help: ArgumentHelp("Verify only this session.", valueName: "id"))
    var session: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Compare with the replica under this root: list op_ids whose lines differ.",
            valueName: "dir"
        )
    )
    var against: String?

    func validate() throws {
        if let session = self.session {
            do {
                _ = try SessionID(validating: session)
            } catch {
                throw ValidationError(error.message)
            }
        }
        if self.against?.isEmpty == true { throw ValidationError("--against must not be empty") }
    }

    func run() throws {
        let layout = self.rootOptions.layout
        let listing = try layout.sessionListing()  // a missing root is an error, not a clean result
        let sessions: [SessionID]
        if let session = self.session {
            sessions = [try SessionID(validating: session)]
        } else {
            reportSkippedFolders(listing)
            sessions = listing.sessions
        }
        if let against = self.against {
            try Self.compare(sessions, in: layout, with: OpLogLayout(root: FilePath(against)))
            return
        }
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

    /// `--against`: every op id whose line differs between the two roots, for each of
    /// `sessions` that the other root also has.
    private static func compare(_ sessions: [SessionID], in layout: OpLogLayout, with other: OpLogLayout) throws {
        let otherSessions = Set(try other.sessionListing().sessions)  // a missing root is an error
        let shared = sessions.filter { otherSessions.contains($0) }
        var output = StandardOutput()
        var differences = 0
        let verifier = LogVerifier()
        for session in shared {
            let log = SessionLog(layout: layout, sessionID: session)
            let otherLog = SessionLog(layout: other, sessionID: session)
            for divergence in try verifier.divergences(between: log, and: otherLog) {
                output.writeLine(
                    "\(session): op_id \(divergence.opID) differs: line \(divergence.lineNumber) of \(log.opsPath), "
                        + "line \(divergence.otherLineNumber) of \(otherLog.opsPath)"
                )
                differences += 1
            }
        }
        output.flush()
        StandardError.write(
            "oplog-sync: compared \(shared.count) session(s) with \(other.root): "
                + (differences == 0 ? "no differences" : "\(differences) op_id line(s) differ")
        )
        if differences > 0 { throw CommandFailure(exitCode: 1) }
    }
}
