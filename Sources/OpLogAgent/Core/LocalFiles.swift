import OpLog
import OpLogReplication

/// Where the core stands in each session's local files: the tail it reads `ops.jsonl` from,
/// what the status snapshot shows of each session, and what was read.
struct LocalFiles: Sendable {
    var tails: [SessionID: SessionTail] = [:]
    /// Each session's `checkpoint.json` as the core last saw it.
    var checkpoints = CheckpointFiles()
    /// Folders of `op_log/` that are not replicated, already reported.
    var reportedSkippedFolders: Set<String> = []
    /// The greatest `lamport_ts` among each session's numbered entries.
    private(set) var lamportMaxima: [SessionID: UInt64] = [:]
    /// The snapshot id of each session's greatest known checkpoint.
    var checkpointSnapshots: [SessionID: String] = [:]
    /// Lines read from logs (entries and rejected lines), for the `indexed` log line.
    var linesRead = 0
    /// Local lines that do not parse, since start.
    var rejectedLines = 0
    /// Op ids a peer sent with other bytes than the local line's, already logged.
    var reportedConflicts: Set<String> = []
    /// Op ids repeated in a local file, already logged.
    var reportedRepeats: Set<String> = []

    /// Notes entries the engine numbered (read, appended or restored).
    mutating func noteNumbered(_ entries: some Sequence<IndexedEntry>, session: SessionID) {
        if let maximum = entries.lazy.map(\.key.lamport).max() { self.noteLamport(maximum, session: session) }
    }

    /// Forgets the session's lamport maximum (its file was reset; the re-read lines note it
    /// again).
    mutating func forgetLamport(_ session: SessionID) {
        self.lamportMaxima[session] = nil
    }

    mutating func noteLamport(_ lamport: UInt64, session: SessionID) {
        if self.lamportMaxima[session].map({ lamport > $0 }) ?? true { self.lamportMaxima[session] = lamport }
    }
}
