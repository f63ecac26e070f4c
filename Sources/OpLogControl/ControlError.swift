/// A failure of the control endpoint or of a client of it, with a one-line message for the user.
///
/// Like `AgentError`: a stable ``code`` to match on (never the ``message``), a one-line
/// ``message`` naming the address and what went wrong, an optional ``cause`` and the place it
/// was thrown. ``description`` is the message alone, which the CLI prints as
/// `oplog-sync: error: <description>`.
public struct ControlError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, as a stable value to compare with `==`; new codes may be added.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Wrapped: Hashable, Sendable {
            case bind
            case serve
            case unreachable
            case badResponse
        }

        private let wrapped: Wrapped

        private init(_ wrapped: Wrapped) {
            self.wrapped = wrapped
        }

        /// The endpoint's address cannot be bound (busy port, no such address).
        public static let bind = Code(.bind)
        /// The endpoint stopped serving after it had started.
        public static let serve = Code(.serve)
        /// No node answered at the address (refused, timed out, no such host).
        public static let unreachable = Code(.unreachable)
        /// Something answered, but not with a node's status (another status code, not JSON).
        public static let badResponse = Code(.badResponse)

        /// A few words naming the code, for diagnostics (never parsed).
        public var description: String {
            switch self.wrapped {
            case .bind: "cannot bind"
            case .serve: "stopped serving"
            case .unreachable: "no node answers"
            case .badResponse: "not a node's status"
            }
        }
    }

    /// The stable error code.
    public var code: Code
    /// The one line for humans, with its context.
    public var message: String
    /// The underlying error, if any.
    public var cause: (any Error)?
    /// Where the error was thrown (`Module/File.swift:LINE`).
    public var location: String

    /// An error with a code, thrown from `file` and `line` (the caller's, by default).
    public init(code: Code, message: String, cause: (any Error)? = nil, file: String = #fileID, line: Int = #line) {
        self.code = code
        self.message = message
        self.cause = cause
        self.location = "\(file):\(line)"
    }

    /// The one-line ``message``.
    public var description: String { self.message }
}
