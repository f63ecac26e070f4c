import ArgumentParser
import OpLogAgent
import OpLogControl

/// `oplog-sync status`: a running node's peers, lag, catch-ups and sessions, from its control
/// endpoint.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show a running node's peers, their link state and lag, catch-ups and sessions.",
        discussion: """
            Asks the control endpoint of a running 'oplog-sync run' (its --http address) for \
            /status and prints it as tables: each peer with its link state, the entries it lacks \
            and since when, a progress bar with rate and ETA while it catches up; each session \
            with its entries, greatest lamport_ts and checkpoint; refused IDs with the option that \
            admits them. --json prints /status as the node sent it. No node answering is an error \
            (exit 1).
            """
    )

    @Option(
        name: .customLong("http"),
        help: ArgumentHelp("The node's control endpoint (default 127.0.0.1:7421).", valueName: "host:port")
    )
    var http = "127.0.0.1:7421"

    @Flag(name: .customLong("json"), help: "Print /status's JSON as the node sent it.")
    var isJSON = false

    func validate() throws {
        do {
            _ = try PeerAddress(parsing: self.http)
        } catch {
            throw ValidationError("--http \(error.message)")
        }
    }

    func run() async throws {
        let answer: StatusClient.Answer
        do {
            answer = try await StatusClient(address: try PeerAddress(parsing: self.http)).fetch()
        } catch let error as ControlError {
            throw RuntimeFailure(error.message)
        }
        var output = StandardOutput()
        if self.isJSON {
            output.write(answer.bytes)
        } else {
            output.write(StatusReport.render(answer.document).utf8)
        }
        output.flush()
    }
}
