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
/// torn or unreadable last line (a crash mid-write) ends the journal there: the entries after it
/// count as this node's own, which at worst sends them back to where they came from (the peer
/// drops them by op id).
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
            for line in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
                guard let run = try? JSONSerialization.jsonObject(with: Data(line)) as? [Any], run.count == 2,
                    let count = run[0] as? Int, count > 0
                else { break }
                let origin = (run[1] as? String).map(NodeID.init)
                list.append(contentsOf: repeatElement(origin, count: count))
            }
            origins[session] = list
        }
        return origins
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
            try FileManager.default.createDirectory(atPath: self.directory.string, withIntermediateDirectories: true)
            let descriptor = try FileDescriptor.open(
                self.path(session),
                .writeOnly,
                options: [.create, .append],
                permissions: [.ownerReadWrite, .groupRead, .otherRead]
            )
            try descriptor.closeAfter { _ = try descriptor.writeAll(Array(text.utf8)) }
        } catch {
            throw AgentError("cannot record entry origins in \(self.path(session)): \(error)")
        }
    }
}

/// Which sessions' checkpoints came from peers, so a read-only replica still forwards them after
/// a restart: `remote_checkpoints.json`, replaced atomically.
struct RemoteCheckpointRecord: Sendable {
    struct Identity: Codable, Hashable, Sendable {
        var lamportTimestamp: Int
        var snapshotID: String
    }

    let path: FilePath

    init(stateDirectory: FilePath) {
        self.path = stateDirectory.appending("remote_checkpoints.json")
    }

    func load() -> [SessionID: Identity] {
        guard let data = FileManager.default.contents(atPath: self.path.string),
            let raw = try? JSONDecoder().decode([String: Identity].self, from: data)
        else { return [:] }
        var identities: [SessionID: Identity] = [:]
        for (session, identity) in raw {
            if let id = try? SessionID(validating: session) { identities[id] = identity }
        }
        return identities
    }

    func save(_ identities: [SessionID: Identity]) throws(AgentError) {
        var raw: [String: Identity] = [:]
        for (session, identity) in identities { raw[session.rawValue] = identity }
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            try encoder.encode(raw).write(to: URL(fileURLWithPath: self.path.string), options: .atomic)
        } catch {
            throw AgentError("cannot record checkpoint origins in \(self.path): \(error)")
        }
    }
}
