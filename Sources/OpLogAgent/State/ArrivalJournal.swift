import OpLog
import OpLogReplication

/// What a read-only replica received, by op id, made durable before each append of it:
/// `arrivals/<session>.jsonl` (see ``StateFile``), one `["OP_ID","NODE_ID"]` line per entry.
///
/// It covers the entries that reached `ops.jsonl` but not the ``OriginJournal`` before a
/// crash, which the replica would otherwise take for its own and never forward. An arrival is
/// *covered* once its entry's origin is in the origin journal (``forget(_:session:origins:synchronize:)``
/// is told so); covered arrivals are dropped by compaction, so the file holds the arrivals
/// still in flight plus fewer than ``compactionThreshold`` covered ones, not everything ever
/// received. At start, once every arrival that reached a file has its place in the (synced)
/// origin journal, ``removeAll()`` drops the files. A torn last line is cut off when loaded;
/// a damaged line is skipped.
///
/// The journal remembers, in memory, which of the arrivals it wrote are not covered yet: keep
/// one value per state folder (the agent's core owns it) and mutate it in place.
struct ArrivalJournal: Sendable {
    /// Covered arrivals a file may hold before it is compacted.
    static let defaultCompactionThreshold = 8192

    /// The state folder holding `arrivals/`.
    let folder: StateFolder
    /// Once a session's file holds this many covered arrivals (at least 1), the
    /// ``forget(_:session:origins:synchronize:)`` that covered the last of them compacts it.
    let compactionThreshold: Int

    /// Per session written to in this run: the arrivals not covered yet, and the records in
    /// its file.
    private var sessions: [SessionID: Outstanding] = [:]

    /// What one session's file holds beyond the disk: which arrivals are still needed.
    private struct Outstanding: Sendable {
        /// Arrivals written and not covered yet, by op id.
        var uncovered: [OpID: NodeID] = [:]
        /// Records in the file (covered or not) since this run first wrote it or compacted it.
        var recordsInFile = 0
    }

    /// A journal in `folder` that compacts a session's file once it holds `compactionThreshold`
    /// covered arrivals (at least 1); nothing is read or written until asked.
    init(folder: StateFolder, compactionThreshold: Int = Self.defaultCompactionThreshold) {
        self.folder = folder
        self.compactionThreshold = max(compactionThreshold, 1)
    }

    /// The record of one arrival, `\n` included.
    static func record(_ arrival: Arrival) -> [UInt8] {
        PythonJSON.compact(.array([.string(arrival.opID.rawValue), .string(arrival.peer.rawValue)]))
            + [UInt8(ascii: "\n")]
    }

    /// Parses a line without its `\n`; `nil` unless it is `["OP_ID","NODE_ID"]` with a valid
    /// op id.
    static func arrival(record line: some Collection<UInt8>) -> Arrival? {
        guard case .array(let fields) = try? JSONValue(parsing: line), fields.count == 2,
            case .string(let opID) = fields[0], case .string(let peer) = fields[1],
            let id = try? OpID(validating: opID)
        else { return nil }
        return Arrival(opID: id, peer: NodeID(peer))
    }

    /// Every session's recorded arrivals, read record by record.
    ///
    /// - Throws: ``AgentError`` `.io` when a file exists but cannot be read, or its torn last
    ///   record cannot be cut off.
    func load() throws(AgentError) -> [SessionID: [Arrival]] {
        var arrivals: [SessionID: [Arrival]] = [:]
        for session in try self.folder.sessions(in: .arrivals) {
            var list: [Arrival] = []
            try self.folder.readJournal(.arrivals(session), ifDamaged: .skip, action: "read received entries in") {
                guard let arrival = Self.arrival(record: $0) else { return false }
                list.append(arrival)
                return true
            }
            arrivals[session] = list
        }
        return arrivals
    }

    /// Appends `arrivals` to the session's file in one write; with `synchronize`, durably
    /// before it returns. Until ``forget(_:session:origins:synchronize:)`` covers them they
    /// are kept by every compaction.
    ///
    /// - Throws: ``AgentError`` `.io`; part of the records may have reached the file then.
    mutating func record(_ arrivals: [Arrival], session: SessionID, synchronize: Bool) throws(AgentError) {
        guard !arrivals.isEmpty else { return }
        var bytes: [UInt8] = []
        for arrival in arrivals { bytes += Self.record(arrival) }
        try self.folder.append(
            bytes,
            to: .arrivals(session),
            synchronize: synchronize,
            action: "record received entries in"
        )
        var outstanding = self.sessions[session] ?? Outstanding()
        for arrival in arrivals { outstanding.uncovered[arrival.opID] = arrival.peer }
        outstanding.recordsInFile += arrivals.count
        self.sessions[session] = outstanding
    }

    /// The entries with these op ids now have their origin in `origins` (its
    /// ``OriginJournal/append(_:session:)`` returned): their arrivals are covered and may be
    /// dropped. Op ids this journal did not record are ignored, so this costs one lookup per
    /// call on a node that records no arrivals.
    ///
    /// Once the session's file holds ``compactionThreshold`` covered arrivals, compacts it:
    /// the origin journal of the session is synced first (with `synchronize`), then the file is
    /// replaced whole (``StateFolder/replace(_:with:synchronize:permissions:action:)``) by the arrivals not
    /// covered yet. A crash at any point leaves either the old file, whose covered arrivals are
    /// harmless, or the new one, written after the origins it drops were durable.
    ///
    /// - Returns: Whether the file was compacted.
    /// - Throws: ``AgentError`` `.io` when the sync or the replacement fails; the file is then
    ///   as it was (compacted again at the next call).
    @discardableResult
    mutating func forget(
        _ opIDs: some Sequence<OpID>,
        session: SessionID,
        origins: OriginJournal,
        synchronize: Bool
    ) throws(AgentError) -> Bool {
        guard var outstanding = self.sessions[session] else { return false }
        for id in opIDs { outstanding.uncovered.removeValue(forKey: id) }
        self.sessions[session] = outstanding
        guard outstanding.recordsInFile - outstanding.uncovered.count >= self.compactionThreshold else {
            return false
        }
        if synchronize { try origins.synchronize(session) }
        var bytes: [UInt8] = []
        for (opID, peer) in outstanding.uncovered.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            bytes += Self.record(Arrival(opID: opID, peer: peer))
        }
        try self.folder.replace(
            .arrivals(session),
            with: bytes,
            synchronize: synchronize,
            action: "compact received entries in"
        )
        outstanding.recordsInFile = outstanding.uncovered.count
        self.sessions[session] = outstanding
        return true
    }

    /// Arrivals of `session` recorded in this run and not covered yet.
    func uncoveredCount(of session: SessionID) -> Int {
        self.sessions[session]?.uncovered.count ?? 0
    }

    /// Removes every session's file and forgets what was recorded, once their entries are in
    /// the (synced) origin journal. Best effort: a file that stays is read again at the next
    /// start, which is harmless.
    mutating func removeAll() {
        for session in (try? self.folder.sessions(in: .arrivals)) ?? [] {
            try? self.folder.remove(.arrivals(session))
        }
        self.sessions = [:]
    }
}
