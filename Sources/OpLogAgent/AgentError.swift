/// A failure to start or run the agent, with a one-line message for the user.
///
/// Every error has a stable ``code`` to match on (never match on ``message``), a one-line
/// ``message`` with the context a person needs to act on it (path, peer, address, key), an
/// optional underlying ``cause`` (an `Errno`, a decoding error, an `OpLogError`) and the place it
/// was thrown. ``description`` is the message alone: the CLI prints it as
/// `oplog-sync: error: <description>` and the agent logs it as is, so a message that needs the
/// cause's text says it itself (`cannot record progress in …/progress.json: Permission denied`);
/// ``detailedDescription()`` adds the code, the cause and the throw site.
///
/// Modelled on swift-nio's `FileSystemError` (code, message, cause, location) with `Code` an
/// extensible struct over a private enum, as swift-service-lifecycle's `ServiceGroupError.Code`.
public struct AgentError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, as a stable value to compare with `==`. New codes may be added without
    /// breaking callers: it is a struct, not an enum to switch over.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Wrapped: Hashable, Sendable {
            case invalidAddress
            case invalidConfiguration
            case stateFolder
            case stateFileCorrupt
            case io
            case opLogFolder
            case listen
            case handshake
            case peerProtocol
            case watcher
            case invalidRecord
            case unspecified
        }

        private let wrapped: Wrapped

        private init(_ wrapped: Wrapped) {
            self.wrapped = wrapped
        }

        /// A `HOST:PORT` text that is not an address (``PeerAddress/init(parsing:)``).
        public static let invalidAddress = Code(.invalidAddress)
        /// An option, environment variable or config-file key whose value is out of range or of
        /// the wrong type, or a config file that cannot be read.
        public static let invalidConfiguration = Code(.invalidConfiguration)
        /// The state folder itself cannot be used: it is inside `op_log/`, cannot be created, or
        /// is not a folder.
        public static let stateFolder = Code(.stateFolder)
        /// A file in the state folder exists but does not hold what it should (a damaged state
        /// folder is reported, not silently ignored). Torn journal records are not this: they
        /// are cut off.
        public static let stateFileCorrupt = Code(.stateFileCorrupt)
        /// A read, write, sync, rename or removal in the state folder failed; ``AgentError/cause``
        /// is the `Errno`.
        public static let io = Code(.io)
        /// The repository's `.muse/op_log/` cannot be created or used.
        public static let opLogFolder = Code(.opLogFolder)
        /// The listening address cannot be bound (busy port, no such address).
        public static let listen = Code(.listen)
        /// A connection closed, spoke out of turn or was refused before its hello was accepted.
        public static let handshake = Code(.handshake)
        /// A peer broke the protocol after its hello (a second hello).
        public static let peerProtocol = Code(.peerProtocol)
        /// The op log watcher (inotify) failed.
        public static let watcher = Code(.watcher)
        /// A record handed to a state file cannot be written as it is (entries to index out of
        /// file order, a value that does not encode): nothing is written.
        public static let invalidRecord = Code(.invalidRecord)
        /// Not classified yet: only the temporary ``AgentError/init(_:file:line:)`` gives it.
        public static let unspecified = Code(.unspecified)

        /// A few words naming the code, for detailed descriptions (never parsed).
        public var description: String {
            switch self.wrapped {
            case .invalidAddress: "invalid address"
            case .invalidConfiguration: "invalid configuration"
            case .stateFolder: "unusable state folder"
            case .stateFileCorrupt: "corrupt state file"
            case .io: "I/O error"
            case .opLogFolder: "unusable op log folder"
            case .listen: "cannot listen"
            case .handshake: "handshake failed"
            case .peerProtocol: "peer protocol violation"
            case .watcher: "watcher failed"
            case .invalidRecord: "invalid state record"
            case .unspecified: "unspecified"
            }
        }
    }

    /// Where an error was thrown, for diagnostics.
    public struct Location: Sendable, Hashable, CustomStringConvertible {
        /// The file, as `#fileID` names it (`Module/File.swift`).
        public var file: String
        /// The line in it.
        public var line: Int

        /// The caller's place, by default.
        public init(file: String = #fileID, line: Int = #line) {
            self.file = file
            self.line = line
        }

        /// `FILE:LINE`.
        public var description: String { "\(self.file):\(self.line)" }
    }

    /// The stable error code.
    public var code: Code
    /// The one line for humans, with its context.
    public var message: String
    /// The underlying error, if any (`any Error` is `Sendable`).
    public var cause: (any Error)?
    /// Where the error was thrown.
    public var location: Location

    /// An error with a code, thrown from `file` and `line` (the caller's, by default).
    public init(
        code: Code,
        message: String,
        cause: (any Error)? = nil,
        file: String = #fileID,
        line: Int = #line
    ) {
        self.code = code
        self.message = message
        self.cause = cause
        self.location = Location(file: file, line: line)
    }

    /// The one-line ``message``.
    public var description: String { self.message }

    /// Several lines: the code, the message, the cause (nested when it is an `AgentError` too)
    /// and the throw site.
    public func detailedDescription() -> String {
        var lines = ["AgentError: \(self.code)", "├─ Reason: \(self.message)"]
        if let cause = self.cause as? AgentError {
            let nested = cause.detailedDescription().split(separator: "\n", omittingEmptySubsequences: false)
            lines.append("├─ Cause:")
            for (index, line) in nested.enumerated() { lines.append((index == 0 ? "│  └─ " : "│     ") + line) }
        } else if let cause = self.cause {
            lines.append("├─ Cause: \(String(reflecting: cause))")
        }
        lines.append("└─ Source location: \(self.location)")
        return lines.joined(separator: "\n")
    }
}
