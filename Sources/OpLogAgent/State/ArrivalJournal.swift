import OpLog
import OpLogReplication

/// What a read-only replica received, by op id, made durable before each append of it:
/// `arrivals/<session>.jsonl` (see ``StateFile``), one `["OP_ID","NODE_ID"]` line per entry.
///
/// It covers the entries that reached `ops.jsonl` but not the ``OriginJournal`` before a
/// crash, which the replica would otherwise take for its own and never forward. Once a restart
/// has indexed them into the origin journal (made durable first), ``removeAll()`` drops the
/// files. A torn last line is cut off when loaded; a damaged line is skipped.
struct ArrivalJournal: Sendable {
    let folder: StateFolder

    init(folder: StateFolder) {
        self.folder = folder
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
    /// before it returns.
    ///
    /// - Throws: ``AgentError`` `.io`; part of the records may have reached the file then.
    func record(_ arrivals: [Arrival], session: SessionID, synchronize: Bool) throws(AgentError) {
        guard !arrivals.isEmpty else { return }
        var bytes: [UInt8] = []
        for arrival in arrivals { bytes += Self.record(arrival) }
        try self.folder.append(
            bytes,
            to: .arrivals(session),
            synchronize: synchronize,
            action: "record received entries in"
        )
    }

    /// Removes every session's file, once their entries are in the (synced) origin journal. Best effort: a file that stays is read again at the next
    /// start, which is harmless.
    func removeAll() {
        for session in (try? self.folder.sessions(in: .arrivals)) ?? [] {
            try? self.folder.remove(.arrivals(session))
        }
    }
}
