public import OpLog

/// Why the engine refused an entry or a message: a stable ``code`` to count and match on, and a
/// one-line ``message`` with the context a person needs (session, range, what was wrong).
///
/// Carried by ``ReplicationReport/rejectedEntry(peer:session:_:)`` and
/// ``ReplicationReport/rejectedMessage(peer:_:)``; nothing refused is ever written or forwarded.
/// Two rejections are equal when their codes and messages are.
public struct ReplicationRejection: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of input was refused. Stable: its ``description`` is a short snake_case name
    /// meant for metric labels (`reason`) and log metadata; new codes may be added.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Wrapped: Hashable, Sendable {
            case invalidEntry
            case contentIDMismatch
            case invalidSessionID
            case invalidRange
            case unsentAcknowledgement
            case invalidCheckpoint
            case checkpointSessionMismatch
            case reconciliationViolation
        }

        private var wrapped: Wrapped

        private init(_ wrapped: Wrapped) {
            self.wrapped = wrapped
        }

        /// A line that does not parse as an entry, or whose fields are out of range.
        public static let invalidEntry = Code(.invalidEntry)
        /// An entry whose `sha256:` op id does not match its content.
        public static let contentIDMismatch = Code(.contentIDMismatch)
        /// A message naming a session id that is not a valid one.
        public static let invalidSessionID = Code(.invalidSessionID)
        /// An entry batch whose sequence range is empty or cannot hold its lines.
        public static let invalidRange = Code(.invalidRange)
        /// An acknowledgement of entries this replica never sent.
        public static let unsentAcknowledgement = Code(.unsentAcknowledgement)
        /// A checkpoint whose bytes are not a valid checkpoint.
        public static let invalidCheckpoint = Code(.invalidCheckpoint)
        /// A checkpoint sent as another session's.
        public static let checkpointSessionMismatch = Code(.checkpointSessionMismatch)
        /// A reconciliation message that breaks the exchange's rules; the exchange is given up.
        public static let reconciliationViolation = Code(.reconciliationViolation)

        /// The code of a rejected entry that failed with `error` (parsing or content-id check).
        public init(entryError error: OpLogError) {
            self = error.code == .contentIDMismatch ? .contentIDMismatch : .invalidEntry
        }

        /// A short snake_case name, stable across releases.
        public var description: String {
            switch self.wrapped {
            case .invalidEntry: "invalid_entry"
            case .contentIDMismatch: "content_id_mismatch"
            case .invalidSessionID: "invalid_session_id"
            case .invalidRange: "invalid_range"
            case .unsentAcknowledgement: "unsent_acknowledgement"
            case .invalidCheckpoint: "invalid_checkpoint"
            case .checkpointSessionMismatch: "checkpoint_session_mismatch"
            case .reconciliationViolation: "reconciliation_violation"
            }
        }
    }

    /// What kind of input was refused.
    public var code: Code
    /// One line saying what was refused and why, with its context.
    public var message: String

    /// A rejection with `code` and a one-line `message`.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// The rejection of an entry that failed with `error`: its code follows the error's, its
    /// message is the error's.
    public init(entryError error: OpLogError) {
        self.init(Code(entryError: error), error.message)
    }

    /// `code: message`, on one line.
    public var description: String { "\(self.code): \(self.message)" }
}
