/// An error thrown by OpLogReplication: a stable ``code`` and a one-line ``message``.
///
/// The engine itself never throws (bad input from a peer or a file is a
/// ``ReplicationRejection`` in a report); this is for values made from outside text, such as
/// ``NodeID/init(validating:)``.
public struct ReplicationError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong; new codes may be added.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Wrapped: Hashable, Sendable {
            case invalidNodeID
            case invalidSessionPattern
        }

        private var wrapped: Wrapped

        private init(_ wrapped: Wrapped) {
            self.wrapped = wrapped
        }

        /// Text that is not a valid node id.
        public static let invalidNodeID = Code(.invalidNodeID)
        /// Text that is not a valid session pattern (``SessionPattern``).
        public static let invalidSessionPattern = Code(.invalidSessionPattern)

        /// A short name of the code.
        public var description: String {
            switch self.wrapped {
            case .invalidNodeID: "invalid node id"
            case .invalidSessionPattern: "invalid session pattern"
            }
        }
    }

    /// What went wrong.
    public var code: Code
    /// One line saying what went wrong, with its context.
    public var message: String

    /// An error with `code` and a one-line `message`.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// The message.
    public var description: String { self.message }
}
