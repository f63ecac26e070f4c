import Foundation
import OpLog
import OpLogReplication
import SystemPackage

/// Where each session's entries came from, by sequence number, kept in the state folder so a
/// restart still never sends an entry back to the peer it came from, and a read-only replica
/// still forwards what it received.
///
/// One append-only file per session, `origins/<session>.jsonl`, one line per run of entries
/// from the same origin: `[COUNT,"NODE_ID"]`, or `[COUNT,null]` for this node's own writers. A
/// torn or unreadable line (a crash mid-write) ends the journal there, and ``load()`` cuts it
/// off so that later records are readable: the entries after it count as this node's own, which
/// at worst sends them back to where they came from (the peer drops them by op id).
struct OriginJournal: Sendable {
    let directory: FilePath

    init(stateDirectory: FilePath) {
        self.directory = stateDirectory.appending("origins")
    }

    private func path(_ session: SessionID) -> FilePath {
        self.directory.appending(session.rawValue + ".jsonl")
    }

    /// Every session's recorded origins, in sequence order.
    func load() -> [SessionID: [NodeID?]] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: self.directory.string) else {
            return [:]
        }
        var origins: [SessionID: [NodeID?]] = [:]
        for name in names where name.hasSuffix(".jsonl") {
            guard let session = try? SessionID(validating: String(name.dropLast(".jsonl".count))),
                let data = FileManager.default.contents(atPath: self.path(session).string)
            else { continue }
            var list: [NodeID?] = []
            var validLength = 0
            for line in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
                guard validLength + line.count < data.count,
                    let run = try? JSONSerialization.jsonObject(with: Data(line)) as? [Any], run.count == 2,
                    let count = run[0] as? Int, count > 0
                else { break }
                let origin = (run[1] as? String).map { NodeID($0) }
                list.append(contentsOf: repeatElement(origin, count: count))
                validLength += line.count + 1
            }
            if validLength < data.count {
                // A record torn by a crash: cut it off, or every record appended after it
                // would be unreadable too.
                _ = truncate(self.path(session).string, off_t(validLength))
            }
            origins[session] = list
        }
        return origins
    }

    /// Makes every session's journal durable.
    func synchronize() {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: self.directory.string) else { return }
        for name in names where name.hasSuffix(".jsonl") {
            guard let descriptor = try? FileDescriptor.open(self.directory.appending(name), .readOnly) else { continue }
            _ = try? descriptor.closeAfter { fsync(descriptor.rawValue) }
        }
    }

    /// Appends the origins of sequence numbers `firstSequence`… to the session's journal,
    /// skipping those already recorded (`recorded` of them).
    func append(_ origins: ArraySlice<NodeID?>, session: SessionID) throws(AgentError) {
        guard !origins.isEmpty else { return }
        var text = ""
        var index = origins.startIndex
        while index < origins.endIndex {
            let origin = origins[index]
            var end = index
            while end < origins.endIndex && origins[end] == origin { end += 1 }
            let name: String
            if let origin {
                let encoded =
                    (try? JSONSerialization.data(withJSONObject: origin.rawValue, options: .fragmentsAllowed))
                    ?? Data("null".utf8)
                name = String(decoding: encoded, as: UTF8.self)
            } else {
                name = "null"
            }
            text += "[\(end - index),\(name)]\n"
            index = end
        }
        do {
            try appendRecord(Array(text.utf8), to: self.path(session), synchronize: false)
        } catch {
            throw AgentError("cannot record entry origins in \(self.path(session)): \(error)")
        }
    }
}

/// What a read-only replica received, by op id, made durable before each append of it:
/// `arrivals/<session>.jsonl`, one `["OP_ID","NODE_ID"]` line per entry. It covers the
/// entries that reached `ops.jsonl` but not the origin journal before a crash, which the replica
/// would otherwise take for its own and never forward. Once a restart has indexed them into the
/// origin journal (made durable first), the files are removed. A torn last line is skipped.
struct ArrivalJournal: Sendable {
    let directory: FilePath

    init(stateDirectory: FilePath) {
        self.directory = stateDirectory.appending("arrivals")
    }

    private static let suffix = ".jsonl"

    private func path(_ session: SessionID) -> FilePath {
        self.directory.appending(session.rawValue + Self.suffix)
    }

    /// Every session's recorded arrivals.
    func load() -> [SessionID: [Arrival]] {
        var arrivals: [SessionID: [Arrival]] = [:]
        for session in self.sessions() {
            guard let data = FileManager.default.contents(atPath: self.path(session).string) else { continue }
            var list: [Arrival] = []
            for line in data.split(separator: UInt8(ascii: "\n")) {
                guard let pair = try? JSONSerialization.jsonObject(with: Data(line)) as? [String], pair.count == 2,
                    let opID = try? OpID(validating: pair[0])
                else { continue }
                list.append(Arrival(opID: opID, peer: NodeID(pair[1])))
            }
            arrivals[session] = list
        }
        return arrivals
    }

    /// Appends `arrivals` to the session's file; with `synchronize`, durably before it returns.
    func record(_ arrivals: [Arrival], session: SessionID, synchronize: Bool) throws(AgentError) {
        var text: [UInt8] = []
        for arrival in arrivals {
            guard
                let line = try? JSONSerialization.data(
                    withJSONObject: [arrival.opID.rawValue, arrival.peer.rawValue],
                    options: [.withoutEscapingSlashes]
                )
            else { continue }
            text += line
            text.append(UInt8(ascii: "\n"))
        }
        do {
            try appendRecord(text, to: self.path(session), synchronize: synchronize)
        } catch {
            throw AgentError("cannot record received entries in \(self.path(session)): \(error)")
        }
    }

    /// Removes every session's file, once their entries are in the (durable) origin journal.
    func removeAll() {
        for session in self.sessions() { try? FileManager.default.removeItem(atPath: self.path(session).string) }
    }

    private func sessions() -> [SessionID] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: self.directory.string) else {
            return []
        }
        return names.compactMap { name in
            guard name.hasSuffix(Self.suffix) else { return nil }
            return try? SessionID(validating: String(name.dropLast(Self.suffix.count)))
        }
    }
}

/// The greatest checkpoint of each session that came from peers, so a read-only replica still
/// forwards it after a restart: `remote_checkpoints.json`, `{"SESSION": "CHECKPOINT JSON"}`,
/// replaced atomically.
struct RemoteCheckpointRecord: Sendable {
    let path: FilePath

    init(stateDirectory: FilePath) {
        self.path = stateDirectory.appending("remote_checkpoints.json")
    }

    /// The recorded checkpoints; entries that no longer parse are left out.
    func load() -> [SessionID: Checkpoint] {
        guard let data = FileManager.default.contents(atPath: self.path.string),
            let raw = try? JSONDecoder().decode([String: String].self, from: data)
        else { return [:] }
        var checkpoints: [SessionID: Checkpoint] = [:]
        for (session, text) in raw {
            if let id = try? SessionID(validating: session), let checkpoint = try? Checkpoint(bytes: Array(text.utf8)) {
                checkpoints[id] = checkpoint
            }
        }
        return checkpoints
    }

    func save(_ checkpoints: [SessionID: Checkpoint]) throws(AgentError) {
        var raw: [String: String] = [:]
        for (session, checkpoint) in checkpoints {
            raw[session.rawValue] = String(decoding: checkpoint.bytes, as: UTF8.self)
        }
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            try encoder.encode(raw).write(to: URL(fileURLWithPath: self.path.string), options: .atomic)
        } catch {
            throw AgentError("cannot record peers' checkpoints in \(self.path): \(error)")
        }
    }
}

/// Appends `bytes` to the state file at `path` (creating it and its folder), in one write;
/// with `synchronize`, durably before it returns.
private func appendRecord(_ bytes: [UInt8], to path: FilePath, synchronize: Bool) throws {
    try FileManager.default.createDirectory(
        atPath: path.removingLastComponent().string,
        withIntermediateDirectories: true
    )
    let descriptor = try FileDescriptor.open(
        path,
        .writeOnly,
        options: [.create, .append],
        permissions: [.ownerReadWrite, .groupRead, .otherRead]
    )
    try descriptor.closeAfter {
        _ = try descriptor.writeAll(bytes)
        if synchronize, fdatasync(descriptor.rawValue) != 0 { throw Errno(rawValue: errno) }
    }
}
