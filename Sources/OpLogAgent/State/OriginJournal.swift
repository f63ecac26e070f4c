import OpLog
import OpLogReplication

/// Where each session's entries came from, by sequence number, kept in the state folder so a
/// restart still never sends an entry back to the peer it came from, and a read-only replica
/// still forwards what it received.
///
/// One append-only journal per session, `origins/<session>.jsonl` (see ``StateFile``), one line
/// per run of entries from the same origin: `[COUNT,"NODE_ID"]`, or `[COUNT,null]` for this
/// node's own writers. Appends are not synced (``synchronize()`` and
/// ``synchronize(_:)`` make them durable). A torn or unreadable line (a crash mid-write) ends
/// the journal there, and ``load()`` cuts it off so that later records are readable: the
/// entries after it count as this node's own, which at worst sends them back to where they came
/// from (the peer drops them by op id).
struct OriginJournal: Sendable {
    /// One line of the journal: `count` consecutive entries from `origin`.
    struct Run: Sendable, Hashable {
        /// How many consecutive entries, at least 1.
        var count: Int
        /// The peer the entries came from; `nil` for this node's own writers.
        var origin: NodeID?

        /// The record's line, `\n` included.
        var record: [UInt8] {
            let origin: JSONValue = self.origin.map { .string($0.rawValue) } ?? .null
            return PythonJSON.compact(.array([.number(JSONNumber(self.count)), origin])) + [UInt8(ascii: "\n")]
        }

        /// Parses a line without its `\n`; `nil` unless it is `[COUNT,"NODE_ID"]` or
        /// `[COUNT,null]` with `COUNT` a positive integer.
        init?(record line: some Collection<UInt8>) {
            guard case .array(let fields) = try? JSONValue(parsing: line), fields.count == 2,
                case .number(let number) = fields[0], let count = number.integerValue, count > 0
            else { return nil }
            switch fields[1] {
            case .null: self.origin = nil
            case .string(let name): self.origin = NodeID(name)
            case .bool, .number, .array, .object: return nil
            }
            self.count = count
        }

        /// A run of `count` (at least 1) entries from `origin`.
        init(count: Int, origin: NodeID?) {
            self.count = count
            self.origin = origin
        }
    }

    /// The state folder holding `origins/`.
    let folder: StateFolder

    /// The journal in `folder`; nothing is read or written until asked.
    init(folder: StateFolder) {
        self.folder = folder
    }

    /// Every session's recorded origins, in sequence order, read record by record.
    ///
    /// - Throws: ``AgentError`` `.io` when a journal exists but cannot be read, or its torn
    ///   record cannot be cut off.
    func load() throws(AgentError) -> [SessionID: [NodeID?]] {
        var origins: [SessionID: [NodeID?]] = [:]
        for session in try self.folder.sessions(in: .origins) {
            var list: [NodeID?] = []
            try self.folder.readJournal(.origins(session), ifDamaged: .endJournal, action: "read entry origins in") {
                guard let run = Run(record: $0) else { return false }
                list.append(contentsOf: repeatElement(run.origin, count: run.count))
                return true
            }
            origins[session] = list
        }
        return origins
    }

    /// Makes every session's journal durable.
    ///
    /// - Throws: ``AgentError`` `.io` when one cannot be listed or synced.
    func synchronize() throws(AgentError) {
        for session in try self.folder.sessions(in: .origins) { try self.synchronize(session) }
    }

    /// Makes the session's journal durable: every origin appended so far survives a crash.
    ///
    /// - Throws: ``AgentError`` `.io`.
    func synchronize(_ session: SessionID) throws(AgentError) {
        try self.folder.synchronize(.origins(session), action: "sync entry origins in")
    }

    /// Appends the origins of consecutive sequence numbers to the session's journal, one record
    /// per run of the same origin, in one write; not synced.
    ///
    /// - Throws: ``AgentError`` `.io`; part of the records may have reached the file (cut off
    ///   as torn when loaded).
    func append(_ origins: ArraySlice<NodeID?>, session: SessionID) throws(AgentError) {
        var bytes: [UInt8] = []
        var index = origins.startIndex
        while index < origins.endIndex {
            let origin = origins[index]
            var end = index
            while end < origins.endIndex && origins[end] == origin { end += 1 }
            bytes += Run(count: end - index, origin: origin).record
            index = end
        }
        try self.folder.append(bytes, to: .origins(session), synchronize: false, action: "record entry origins in")
    }
}
