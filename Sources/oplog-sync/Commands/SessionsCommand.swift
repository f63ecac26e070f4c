import ArgumentParser
import Logging
import OpLog

/// `oplog-sync sessions`: the session ids under a root.
struct SessionsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sessions",
        abstract: "List the sessions under ROOT/.muse/op_log/, one id per line, sorted.",
        discussion: """
            A root without .muse/op_log/ has no sessions. Folders whose names are not valid \
            session ids, and symbolic links, are not listed (nor replicated): each gets a \
            warning on stderr saying why and what to do.
            """
    )

    @OptionGroup var rootOptions: RootOptions

    func run() throws {
        let listing = try self.rootOptions.layout.sessionListing()
        reportSkippedFolders(listing)
        var output = StandardOutput()
        for session in listing.sessions {
            output.writeLine(session.rawValue)
        }
        output.flush()
    }
}

/// Logs a warning for each folder under `op_log/` that is not a session, with what to do.
func reportSkippedFolders(_ listing: SessionListing) {
    guard !listing.skipped.isEmpty else { return }
    let logger = Logger(label: "oplog-sync")
    for folder in listing.skipped {
        logger.warning(
            "folder not replicated",
            metadata: ["folder.path": "\(folder.path)", "reason": "\(folder.remedy)"]
        )
    }
}
