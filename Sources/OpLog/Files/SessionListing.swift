public import SystemPackage

/// What is under `ROOT/.muse/op_log/`: the sessions, and the folders that are not replicated
/// (see ``OpLogLayout/sessionListing()``).
public struct SessionListing: Sendable {
    /// Valid session folders, in code point order.
    public var sessions: [SessionID] = []
    /// Folders left out, in code point order of their names.
    public var skipped: [SkippedSessionFolder] = []

    public init(sessions: [SessionID] = [], skipped: [SkippedSessionFolder] = []) {
        self.sessions = sessions
        self.skipped = skipped
    }
}

/// An entry of `ROOT/.muse/op_log/` that looks like a session but is never read or replicated.
public struct SkippedSessionFolder: Sendable, CustomStringConvertible {
    /// Why it is left out.
    public enum Reason: Sendable {
        /// The name is not a session id (DESIGN §2: one path component of `[A-Za-z0-9._-]`,
        /// at most 128 bytes); the error says which rule it breaks.
        case invalidSessionID(OpLogError)
        /// A symbolic link: links are never followed out of the op log tree.
        case symbolicLink
    }

    /// The folder's name as listed (bytes that are not UTF-8 shown as U+FFFD).
    public var name: String
    /// `ROOT/.muse/op_log/<name>`.
    public var path: FilePath
    public var reason: Reason

    public init(name: String, path: FilePath, reason: Reason) {
        self.name = name
        self.path = path
        self.reason = reason
    }

    /// Why it is skipped and what to do, for an operator.
    public var remedy: String {
        switch self.reason {
        case .invalidSessionID(let error):
            "\(error.message); rename the folder to a valid session id to replicate it"
        case .symbolicLink:
            "is a symbolic link, which is never followed; move the session's folder here instead"
        }
    }

    /// One line: `not replicated: PATH: WHY; WHAT TO DO`.
    public var description: String { "not replicated: \(self.path): \(self.remedy)" }
}
