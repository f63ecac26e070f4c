import ArgumentParser
import OpLog

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `oplog-sync append`: one content-addressed entry with the next Lamport timestamp.
struct AppendCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "append",
        abstract: "Append one entry to a session's op log and print its op_id.",
        discussion: """
            The entry gets the next Lamport timestamp (one above every timestamp in the file, \
            whoever wrote it) and a content-addressed op_id: "sha256:" and the SHA-256 of the \
            entry's RFC 8785 canonical JSON without op_id. It is written as Muse writes entries: \
            one compact JSON line, in a single append, safe alongside Muse's own writer. If the \
            log ends in an unfinished line, append waits for it to be finished, or closes it \
            with a newline once it has been unchanged for --stale-tail-seconds.

            With --op -, each line of standard input is a domain op, appended as its own entry \
            (the op_ids are printed one per line).
            """
    )

    @OptionGroup var sessionOptions: SessionOptions

    @Option(name: .long, help: ArgumentHelp("Agent or human identity that made the edit.", valueName: "id"))
    var actor: String

    @Option(name: .long, help: ArgumentHelp("Domain tag, such as music or code.", valueName: "domain"))
    var domain: String

    @Option(
        name: .long,
        help: ArgumentHelp("The domain op as JSON, or - to read one per line from stdin.", valueName: "json")
    )
    var op: String

    @Option(name: .long, help: ArgumentHelp("A causal parent's op_id (repeatable).", valueName: "op-id"))
    var parent: [String] = []

    @Option(name: .long, help: ArgumentHelp("Coordination intent id.", valueName: "id"))
    var intent: String = ""

    @Option(name: .long, help: ArgumentHelp("Coordination reservation id.", valueName: "id"))
    var reservation: String = ""

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Seconds an unfinished last line must stay unchanged before it is treated as a crashed writer's.",
            valueName: "seconds"
        )
    )
    var staleTailSeconds: Double = 10

    func validate() throws {
        if self.op != "-" {
            do {
                _ = try JSONValue(parsing: self.op)
            } catch {
                throw ValidationError("--op is not valid JSON: \(error.message)")
            }
        }
        for parent in self.parent {
            do {
                _ = try OpID(validating: parent)
            } catch {
                throw ValidationError("--parent: \(error.message)")
            }
        }
        guard self.staleTailSeconds >= 0, self.staleTailSeconds.isFinite else {
            throw ValidationError("--stale-tail-seconds must be a non-negative number")
        }
    }

    func run() throws {
        var log = try self.sessionOptions.opLog
        let parents = try self.parent.map { try OpID(validating: $0) }
        var output = StandardOutput()
        defer { output.flush() }
        if self.op == "-" {
            var lineNumber = 0
            while let line = readLine(strippingNewline: true) {
                lineNumber += 1
                guard line.contains(where: { !$0.isWhitespace }) else { continue }
                let domainOp: JSONValue
                do {
                    domainOp = try JSONValue(parsing: line)
                } catch {
                    throw OpLogError(
                        code: .invalidJSON,
                        message: "stdin line \(lineNumber) is not valid JSON: \(error.message)"
                    )
                }
                output.writeLine(try self.append(domainOp, parents: parents, to: &log).opID.rawValue)
            }
        } else {
            output.writeLine(try self.append(try JSONValue(parsing: self.op), parents: parents, to: &log).opID.rawValue)
        }
    }

    /// Appends one entry, waiting (bounded by the stale-tail age) while another writer finishes
    /// its line.
    private func append(_ domainOp: JSONValue, parents: [OpID], to log: inout OpLog) throws -> OpEntry {
        let staleTailAge = Duration.milliseconds(Int64(self.staleTailSeconds * 1000))
        let clock = ContinuousClock()
        let deadline = clock.now + staleTailAge + .seconds(1)
        while true {
            let failure: OpLogError
            do {
                return try log.append(
                    actorID: self.actor,
                    domain: self.domain,
                    domainOp: domainOp,
                    parentOpIDs: parents,
                    intentID: self.intent,
                    reservationID: self.reservation,
                    staleTailAge: staleTailAge
                )
            } catch {
                failure = error
            }
            guard failure.code == .tailInProgress, clock.now < deadline else { throw failure }
            usleep(10_000)
        }
    }
}
