/// Checks a session log against the invariants a replica must keep (DESIGN §3): every line
/// parses as an entry, no op id repeats, parents precede children, `sha256:` ids match content.
public struct LogVerifier: Sendable {
    /// One thing found in a log.
    public struct Finding: Sendable, Hashable, CustomStringConvertible {
        public enum Kind: Sendable, Hashable {
            /// A complete line that is not an entry.
            case invalidLine
            /// An op id seen on an earlier line.
            case duplicateOpID
            /// An entry whose parent appears later in the file.
            case childBeforeParent
            /// A `sha256:` id that does not match the entry's content.
            case contentIDMismatch
            /// A parent that is not in the session at all (a warning: replication writes
            /// orphans after holding them).
            case missingParent
            /// The file ends in an unfinished line (a note: a writer may be mid-append).
            case unterminatedTail
        }

        public var kind: Kind
        public var sessionID: SessionID
        /// The line concerned (for an unterminated tail, the line it would become).
        public var lineNumber: Int
        public var message: String

        /// Whether this finding makes the log invalid (warnings and notes do not).
        public var isProblem: Bool {
            switch self.kind {
            case .invalidLine, .duplicateOpID, .childBeforeParent, .contentIDMismatch: true
            case .missingParent, .unterminatedTail: false
            }
        }

        public var description: String {
            let label =
                switch self.kind {
                case .invalidLine: "invalid line"
                case .duplicateOpID: "duplicate op_id"
                case .childBeforeParent: "child before parent"
                case .contentIDMismatch: "content id mismatch"
                case .missingParent: "warning: missing parent"
                case .unterminatedTail: "note: unterminated tail"
                }
            return "\(self.sessionID):\(self.lineNumber): \(label): \(self.message)"
        }
    }

    public init() {}

    /// Every finding for `log`, in line order. Reads the file once, streaming.
    ///
    /// - Complexity: O(n) time; memory O(number of entries) for the op id set.
    public func verify(_ log: SessionLog) throws(OpLogError) -> [Finding] {
        let session = log.sessionID
        var findings: [Finding] = []
        var firstLine: [OpID: Int] = [:]
        var waiting: [OpID: [(child: OpID, line: Int)]] = [:]  // parents not yet seen
        let summary = try log.forEachEntry { entry, position in
            let line = position.lineNumber
            if let earlier = firstLine[entry.opID] {
                findings.append(
                    Finding(
                        kind: .duplicateOpID,
                        sessionID: session,
                        lineNumber: line,
                        message: "\(entry.opID) first seen on line \(earlier)"
                    )
                )
            } else {
                firstLine[entry.opID] = line
            }
            do throws(OpLogError) {
                try entry.verifyContentID()
            } catch {
                findings.append(
                    Finding(kind: .contentIDMismatch, sessionID: session, lineNumber: line, message: error.message)
                )
            }
            for parent in entry.parentOpIDs where firstLine[parent] == nil {
                waiting[parent, default: []].append((entry.opID, line))
            }
        }
        for rejected in summary.rejectedLines {
            findings.append(
                Finding(
                    kind: .invalidLine,
                    sessionID: session,
                    lineNumber: rejected.position.lineNumber,
                    message: rejected.reason.message
                )
            )
        }
        if summary.rejectedLineCount > summary.rejectedLines.count {
            findings.append(
                Finding(
                    kind: .invalidLine,
                    sessionID: session,
                    lineNumber: summary.nextLineNumber - 1,
                    message: "\(summary.rejectedLineCount - summary.rejectedLines.count) more invalid lines not listed"
                )
            )
        }
        for (parent, children) in waiting {
            for child in children {
                if let parentLine = firstLine[parent] {
                    findings.append(
                        Finding(
                            kind: .childBeforeParent,
                            sessionID: session,
                            lineNumber: child.line,
                            message: "\(child.child) precedes its parent \(parent) on line \(parentLine)"
                        )
                    )
                } else {
                    findings.append(
                        Finding(
                            kind: .missingParent,
                            sessionID: session,
                            lineNumber: child.line,
                            message: "\(child.child) names parent \(parent), which is not in the session"
                        )
                    )
                }
            }
        }
        if summary.hasUnterminatedTail {
            findings.append(
                Finding(
                    kind: .unterminatedTail,
                    sessionID: session,
                    lineNumber: summary.nextLineNumber,
                    message: "\(summary.unterminatedTailLength) bytes without a final newline"
                )
            )
        }
        return findings.sorted { ($0.lineNumber, $0.description) < ($1.lineNumber, $1.description) }
    }
}
