/// A failure of the node's identity: its files, a node ID, or the TLS contexts built from it.
///
/// Every error has a stable ``code`` to match on (never match on ``message``), a one-line
/// ``message`` naming what a person needs to act on (the file, the text that is not a node ID),
/// an optional underlying ``cause`` (an `Errno`, a PEM or DER decoding error, a BoringSSL error)
/// and the place it was thrown. ``description`` is the message alone: the CLI prints it as
/// `oplog-sync: error: <description>`; ``detailedDescription()`` adds the code, the cause and the
/// throw site.
///
/// Shaped as swift-nio's `FileSystemError` (code, message, cause, location), with `Code` an
/// extensible struct over a private enum as swift-service-lifecycle's `ServiceGroupError.Code`.
public struct IdentityError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, as a stable value to compare with `==`. New codes may be added without
    /// breaking callers: it is a struct, not an enum to switch over.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Wrapped: Hashable, Sendable {
            case invalidNodeID
            case missingKey
            case missingCertificate
            case invalidKey
            case invalidCertificate
            case mismatchedPair
            case insecureKeyFile
            case io
            case tls
        }

        private let wrapped: Wrapped

        private init(_ wrapped: Wrapped) {
            self.wrapped = wrapped
        }

        /// Text that is not a node ID: wrong length, a character outside the base32 alphabet, or
        /// a wrong check character (``NodeFingerprint/init(parsing:)``).
        public static let invalidNodeID = Code(.invalidNodeID)
        /// `identity/cert.pem` exists without `identity/key.pem`.
        public static let missingKey = Code(.missingKey)
        /// `identity/key.pem` exists without `identity/cert.pem`.
        public static let missingCertificate = Code(.missingCertificate)
        /// `identity/key.pem` is not a PEM P-256 private key.
        public static let invalidKey = Code(.invalidKey)
        /// `identity/cert.pem` is not one PEM X.509 certificate.
        public static let invalidCertificate = Code(.invalidCertificate)
        /// The key is not the one the certificate was made for.
        public static let mismatchedPair = Code(.mismatchedPair)
        /// `identity/key.pem` may be read or written by users other than its owner.
        public static let insecureKeyFile = Code(.insecureKeyFile)
        /// A read, write, sync or rename of the identity's files or folders failed;
        /// ``IdentityError/cause`` is the `Errno`.
        public static let io = Code(.io)
        /// A TLS context or handler cannot be made, or a channel has no TLS handler.
        public static let tls = Code(.tls)

        /// A few words naming the code, for detailed descriptions (never parsed).
        public var description: String {
            switch self.wrapped {
            case .invalidNodeID: "invalid node ID"
            case .missingKey: "identity key missing"
            case .missingCertificate: "identity certificate missing"
            case .invalidKey: "invalid identity key"
            case .invalidCertificate: "invalid identity certificate"
            case .mismatchedPair: "identity key and certificate do not match"
            case .insecureKeyFile: "identity key readable by others"
            case .io: "I/O error"
            case .tls: "TLS setup failed"
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
    /// The underlying error, if any.
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

    /// Several lines: the code, the message, the cause and the throw site.
    public func detailedDescription() -> String {
        var lines = ["IdentityError: \(self.code)", "├─ Reason: \(self.message)"]
        if let cause = self.cause {
            lines.append("├─ Cause: \(String(reflecting: cause))")
        }
        lines.append("└─ Source location: \(self.location)")
        return lines.joined(separator: "\n")
    }
}
