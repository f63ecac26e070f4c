import ArgumentParser
import OpLog
import SystemPackage

/// `--root DIR`: the Muse repository whose op logs a command works on.
struct RootOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Repository root: the folder holding .muse/.", valueName: "dir"))
    var root: String

    var layout: OpLogLayout { OpLogLayout(root: FilePath(self.root)) }

    func validate() throws {
        guard !self.root.isEmpty else { throw ValidationError("--root must not be empty") }
    }
}

/// `--root DIR --session ID`: one session's log.
struct SessionOptions: ParsableArguments {
    @OptionGroup var rootOptions: RootOptions

    @Option(
        name: .long,
        help: ArgumentHelp("Session id: one path component of A-Z a-z 0-9 . _ - (at most 128 bytes).", valueName: "id")
    )
    var session: String

    func validate() throws {
        do {
            _ = try SessionID(validating: self.session)
        } catch {
            throw ValidationError(error.message)
        }
    }

    var sessionID: SessionID {
        get throws { try SessionID(validating: self.session) }
    }

    var opLog: OpLog {
        get throws { OpLog(root: FilePath(self.rootOptions.root), sessionID: try self.sessionID) }
    }
}

/// Fails with a one-line error when the root folder does not exist (an empty `.muse/op_log/` is
/// fine: it holds no sessions).
func requireRootExists(_ root: String) throws {
    _ = try OpLogLayout(root: FilePath(root)).sessions()
}
