import ArgumentParser
import OpLog

/// `oplog-sync sessions`: the session ids under a root.
struct SessionsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sessions",
        abstract: "List the sessions under ROOT/.muse/op_log/, one id per line, sorted.",
        discussion:
            "A root without .muse/op_log/ has no sessions. Folders whose names are not valid session ids are not listed."
    )

    @OptionGroup var rootOptions: RootOptions

    func run() throws {
        var output = StandardOutput()
        for session in try self.rootOptions.layout.sessions() {
            output.writeLine(session.rawValue)
        }
        output.flush()
    }
}
