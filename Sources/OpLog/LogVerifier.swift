/// Checks a session log against the invariants a replica must keep (DESIGN §3): every line
/// parses as an entry, no op id repeats, parents precede children, `sha256:` ids match content,
/// and `checkpoint.json`, when there is one, is a checkpoint.
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
            /// `checkpoint.json` exists but is not a checkpoint (it does not parse, a field is
            /// missing or mistyped, or it is a symbolic link), so reading the session since its
            /// checkpoint fails. Its ``Finding/lineNumber`` is 0.
            case invalidCheckpoint
        }

        public var kind: Kind
        public var sessionID: SessionID
        /// The line of `ops.jsonl` concerned (for an unterminated tail, the line it would
        /// become); 0 for a finding about `checkpoint.json`.
        public var lineNumber: Int
        public var message: String

        /// Whether this finding makes the log invalid (warnings and notes do not).
        public var isProblem: Bool {
            switch self.kind {
            case .invalidLine, .duplicateOpID, .childBeforeParent, .contentIDMismatch, .invalidCheckpoint: true
            case .missingParent, .unterminatedTail: false
            }
        }

        /// `SESSION:LINE: KIND: DETAIL`, or `SESSION:checkpoint.json: invalid checkpoint: DETAIL`.
        public var description: String {
            let label =
                switch self.kind {
                case .invalidLine: "invalid line"
                case .duplicateOpID: "duplicate op_id"
                case .childBeforeParent: "child before parent"
                case .contentIDMismatch: "content id mismatch"
                case .missingParent: "warning: missing parent"
                case .unterminatedTail: "note: unterminated tail"
                case .invalidCheckpoint: "invalid checkpoint"
                }
            let place = self.kind == .invalidCheckpoint ? SessionLog.checkpointFileName : "\(self.lineNumber)"
            return "\(self.sessionID):\(place): \(label): \(self.message)"
        }
    }

    /// How long a `checkpoint.json` that is not a checkpoint is read again before it counts as
    /// invalid, as ``SessionLog/readCheckpoint(patience:)`` (which `log --since-checkpoint` uses).
    public var checkpointPatience: Duration

    /// A verifier; `checkpointPatience` as ``SessionLog/readCheckpoint(patience:)``'s default, so
    /// verification fails exactly when reading since the checkpoint would.
    public init(checkpointPatience: Duration = .milliseconds(500)) {
        self.checkpointPatience = checkpointPatience
    }

    /// Every finding for `log`, in line order, a finding about `checkpoint.json` first. Reads
    /// the file once, streaming.
    ///
    /// A `checkpoint.json` that does not decode is read again for up to ``checkpointPatience``
    /// (Muse may be rewriting it in place), blocking the calling thread meanwhile.
    /// - Throws: `OpLogError` `.io` when a file cannot be read, `.unsafePath` when the session
    ///   folder or `ops.jsonl` is a symbolic link.
    /// - Complexity: O(n) time; memory O(number of entries) for the op id set.
    public func verify(_ log: SessionLog) throws(OpLogError) -> [Finding] {
        let session = log.sessionID
        var findings: [Finding] = []
        if let problem = try self.checkpointProblem(log) {
            findings.append(Finding(kind: .invalidCheckpoint, sessionID: session, lineNumber: 0, message: problem))
        }
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

    /// Why `checkpoint.json` cannot be read as a checkpoint, or `nil` when it can or is absent.
    private func checkpointProblem(_ log: SessionLog) throws(OpLogError) -> String? {
        do throws(OpLogError) {
            _ = try log.readCheckpoint(patience: self.checkpointPatience)
            return nil
        } catch  where error.code == .invalidCheckpoint || error.code == .unsafePath {
            return error.message  // both name the file
        }
    }
}
