/// An error raised by the `OpLog` library.
///
/// Every error has a stable ``code`` to match on, a human-readable ``message`` carrying the
/// context needed to act on it (path, session, line number), an optional underlying cause and
/// the place it was thrown. Its `description` is a single line, suitable for a CLI's stderr.
public struct OpLogError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, as a stable, matchable value.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Wrapped: Hashable, Sendable {
            case invalidSessionID
            case invalidOpID
            case invalidJSON
            case invalidEntry
            case invalidCheckpoint
            case contentIDMismatch
            case tailInProgress
            case unsafePath
            case io
            case watchFailed
            case clockExhausted
        }

        private let wrapped: Wrapped

        private init(_ wrapped: Wrapped) {
            self.wrapped = wrapped
        }

        /// A session id that is not a single path component of `[A-Za-z0-9._-]`.
        public static let invalidSessionID = Code(.invalidSessionID)
        /// An op id that is empty, too long or contains control characters.
        public static let invalidOpID = Code(.invalidOpID)
        /// Text that is not strict JSON (RFC 8259, as profiled by I-JSON).
        public static let invalidJSON = Code(.invalidJSON)
        /// JSON that is not an op log entry (a field missing or of the wrong type).
        public static let invalidEntry = Code(.invalidEntry)
        /// A checkpoint file that is not a checkpoint.
        public static let invalidCheckpoint = Code(.invalidCheckpoint)
        /// An entry whose `sha256:` op id does not match its content.
        public static let contentIDMismatch = Code(.contentIDMismatch)
        /// The log ends in an unfinished line that a writer may still be completing.
        public static let tailInProgress = Code(.tailInProgress)
        /// A path that would leave the op log folder or pass through a symbolic link.
        public static let unsafePath = Code(.unsafePath)
        /// A system call failed.
        public static let io = Code(.io)
        /// inotify could not start, watch the op log folder or deliver events: the watcher
        /// (OpLogWatch) stopped. Watches on single sessions that fail are retried, not this.
        public static let watchFailed = Code(.watchFailed)
        /// The session's greatest `lamport_ts` is ``LamportClock/maximumTimestamp``: no entry
        /// can follow it.
        public static let clockExhausted = Code(.clockExhausted)

        public var description: String {
            switch self.wrapped {
            case .invalidSessionID: "invalid session id"
            case .invalidOpID: "invalid op id"
            case .invalidJSON: "invalid JSON"
            case .invalidEntry: "invalid entry"
            case .invalidCheckpoint: "invalid checkpoint"
            case .contentIDMismatch: "content id mismatch"
            case .tailInProgress: "tail in progress"
            case .unsafePath: "unsafe path"
            case .io: "I/O error"
            case .watchFailed: "watch failed"
            case .clockExhausted: "clock exhausted"
            }
        }
    }

    /// Where an error was thrown, for diagnostics.
    public struct Location: Sendable, CustomStringConvertible {
        public var file: String
        public var line: Int

        public init(file: String = #fileID, line: Int = #line) {
            self.file = file
            self.line = line
        }

        public var description: String { "\(self.file):\(self.line)" }
    }

    /// The stable error code.
    public var code: Code
    /// A message for humans, with the context needed to act on it.
    public var message: String
    /// The underlying error, if any (for example an `Errno`).
    public var cause: (any Error & Sendable)?
    /// Where the error was thrown.
    public var location: Location

    public init(
        code: Code,
        message: String,
        cause: (any Error & Sendable)? = nil,
        location: Location = Location()
    ) {
        self.code = code
        self.message = message
        self.cause = cause
        self.location = location
    }

    /// One line: the message, then the cause when there is one.
    public var description: String {
        if let cause = self.cause {
            return "\(self.message): \(cause)"
        }
        return self.message
    }

    /// A multi-line description including code, cause and throw site.
    public func detailedDescription() -> String {
        var lines = ["OpLogError: \(self.code)", "  message: \(self.message)"]
        if let cause = self.cause {
            lines.append("  cause: \(cause)")
        }
        lines.append("  location: \(self.location)")
        return lines.joined(separator: "\n")
    }
}
