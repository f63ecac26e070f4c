public import OpLog

/// What changed under `ROOT/.muse/op_log/` since the last batch: hints, not data. The files are
/// the truth; a consumer re-reads the sessions named here from where it left off.
public struct SessionChanges: Sendable, Equatable {
    /// Which of a session's files changed.
    public struct Kinds: OptionSet, Sendable, Hashable {
        public let rawValue: UInt8

        public init(rawValue: UInt8) {
            self.rawValue = rawValue
        }

        /// `ops.jsonl` was written, created, replaced or removed.
        public static let ops = Kinds(rawValue: 1)
        /// `checkpoint.json` was written, created or replaced.
        public static let checkpoint = Kinds(rawValue: 2)
    }

    /// Sessions whose files changed, and how.
    public var sessions: [SessionID: Kinds] = [:]
    /// Events were lost (the kernel's queue overflowed) or a folder moved: every session must be
    /// re-read from its offsets.
    public var isRescanNeeded = false

    public init(sessions: [SessionID: Kinds] = [:], isRescanNeeded: Bool = false) {
        self.sessions = sessions
        self.isRescanNeeded = isRescanNeeded
    }

    /// Whether there is nothing to do.
    public var isEmpty: Bool { self.sessions.isEmpty && !self.isRescanNeeded }

    /// Adds `kinds` for `session`.
    mutating func note(_ session: SessionID, _ kinds: Kinds) {
        self.sessions[session, default: []].formUnion(kinds)
    }
}
