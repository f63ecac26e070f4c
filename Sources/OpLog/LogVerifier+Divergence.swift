import Crypto

extension LogVerifier {
    /// One op id whose line differs between two replicas of a session: a writer bug (two
    /// different entries given one UUID id) or a corrupted copy. Invariant 3 (DESIGN §3) says a
    /// line is identical, byte for byte, on every replica.
    public struct Divergence: Sendable, Hashable, CustomStringConvertible {
        public var sessionID: SessionID
        public var opID: OpID
        /// The line of the op in the first log (``LogVerifier/divergences(between:and:)``'s `log`).
        public var lineNumber: Int
        /// The line of the op in the other log.
        public var otherLineNumber: Int

        /// `SESSION: op_id ID: line N here, line M in the other log differ`.
        public var description: String {
            "\(self.sessionID): op_id \(self.opID): line \(self.lineNumber) here, line \(self.otherLineNumber) in the other log differ"
        }
    }

    /// Every op id that both logs hold but with different bytes, ordered by the line in `log`,
    /// then in `other`.
    ///
    /// Only entries are compared (lines that are not entries have no op id; plain ``verify(_:)``
    /// reports them). An op id that repeats within one log is compared at each of its lines,
    /// so every differing pair of lines is listed once. Entries only one side holds are not
    /// divergences: replication may simply not have caught up. The two logs need not be of the
    /// same session id (a renamed copy compares too); findings carry `log`'s.
    /// - Throws: `OpLogError` `.io` or `.unsafePath` when a log cannot be read.
    /// - Complexity: O(n + m) time, one streaming pass over each file; memory O(n) for the first
    ///   log's op ids and line digests (32 bytes each).
    public func divergences(between log: SessionLog, and other: SessionLog) throws(OpLogError) -> [Divergence] {
        var lines: [OpID: [(lineNumber: Int, digest: SHA256Digest)]] = [:]
        _ = try log.forEachEntry { entry, position in
            lines[entry.opID, default: []].append((position.lineNumber, SHA256.hash(data: entry.line)))
        }
        var found: [Divergence] = []
        _ = try other.forEachEntry { entry, position in
            guard let here = lines[entry.opID] else { return }
            let digest = SHA256.hash(data: entry.line)
            for line in here where line.digest != digest {
                found.append(
                    Divergence(
                        sessionID: log.sessionID,
                        opID: entry.opID,
                        lineNumber: line.lineNumber,
                        otherLineNumber: position.lineNumber
                    )
                )
            }
        }
        return found.sorted { ($0.lineNumber, $0.otherLineNumber) < ($1.lineNumber, $1.otherLineNumber) }
    }
}
