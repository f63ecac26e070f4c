import Foundation
import OpLog
import OpLogReplication
import SystemPackage

/// What each peer has durably acknowledged, per session, kept in the state folder so that a
/// restart resumes links instead of sending whole logs again.
///
/// One file, `progress.json` (see ``StateFile``), replaced whole and durably
/// (``StateFolder/replace(_:with:synchronize:permissions:action:)``: a temporary file, synced, renamed,
/// folder synced): a crash leaves the previous version or the new one, never a mix. Each
/// session's progress carries the placement of the last acknowledged entry (its
/// ``EntryPlacement``: Lamport clock and 128 bits of hashes, which the engine holds in memory, so
/// a record is made without reading any log); on load, progress whose entry is no longer at that
/// place in the local log (the log was replaced) is dropped, so a stale record can only cause
/// re-sending, never skipping. Version 1 records named the entry by its op id instead; they are
/// still read, and checked against the log once, at start.
struct ProgressStore: Sendable {
    /// A peer's acknowledgement of one session: the first `acknowledged` entries of this node's
    /// file order, the last of which is ``last`` (or, in a version 1 record, ``lastOpID``).
    struct Mark: Sendable, Hashable, Codable {
        /// How many entries, from the first, the peer holds durably.
        var acknowledged: UInt64
        /// The placement of the last of them (`nil` when `acknowledged` is 0, or in a version 1
        /// record).
        var last: Placement?
        /// The op id of the last of them, in a version 1 record (`nil` otherwise).
        var lastOpID: String?

        init(acknowledged: UInt64, last: EntryPlacement?) {
            self.acknowledged = acknowledged
            self.last = last.map(Placement.init)
        }

        init(acknowledged: UInt64, lastOpID: String) {
            self.acknowledged = acknowledged
            self.lastOpID = lastOpID
        }

        /// Whether `placement` is the last acknowledged entry's, as far as the record tells.
        func names(_ placement: EntryPlacement?) -> Bool {
            self.last.map { placement.map(Placement.init) == $0 } ?? false
        }
    }

    /// An ``EntryPlacement`` as the record spells it: hashes in hex, so that no JSON reader
    /// rounds them.
    struct Placement: Sendable, Hashable, Codable {
        var lamport: UInt64
        var hash: String
        var content: String

        init(_ placement: EntryPlacement) {
            self.lamport = placement.bound.lamport
            self.hash = String(placement.bound.hash, radix: 16)
            self.content = String(placement.contentHash, radix: 16)
        }
    }

    private struct Document: Codable {
        var version = 2
        var peers: [String: [String: Mark]]
    }

    /// The state folder holding `progress.json`.
    let folder: StateFolder

    /// The record in `folder`; nothing is read or written until asked.
    init(folder: StateFolder) {
        self.folder = folder
    }

    /// Where the record is, for messages.
    var path: FilePath { self.folder.path(of: .progress) }

    /// Every recorded mark, by peer and session; empty when nothing was recorded. A session id
    /// that no longer parses is left out.
    ///
    /// - Throws: ``AgentError`` `.stateFileCorrupt` when the file exists but is not a progress
    ///   record (a damaged state folder is reported rather than silently ignored), `.io` when it
    ///   cannot be read.
    func load() throws(AgentError) -> [NodeID: [SessionID: Mark]] {
        guard let bytes = try self.folder.contents(of: .progress, action: "read progress in") else { return [:] }
        let document: Document
        do {
            document = try JSONDecoder().decode(Document.self, from: Data(bytes))
        } catch {
            throw AgentError(
                code: .stateFileCorrupt,
                message: "\(self.path) is not a progress record: \(error)",
                cause: error
            )
        }
        var marks: [NodeID: [SessionID: Mark]] = [:]
        for (peer, sessions) in document.peers {
            for (session, mark) in sessions {
                guard let id = try? SessionID(validating: session) else { continue }
                marks[NodeID(peer), default: [:]][id] = mark
            }
        }
        return marks
    }

    /// Replaces the record with `marks`, atomically and durably (two `fsync`s).
    ///
    /// - Throws: ``AgentError`` `.io` (`cannot record progress in <path>: <errno>`); the
    ///   previous record is then untouched.
    func save(_ marks: [NodeID: [SessionID: Mark]]) throws(AgentError) {
        var peers: [String: [String: Mark]] = [:]
        for (peer, sessions) in marks {
            for (session, mark) in sessions { peers[peer.rawValue, default: [:]][session.rawValue] = mark }
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let bytes: [UInt8]
        do {
            bytes = Array(try encoder.encode(Document(peers: peers)))
        } catch {
            throw AgentError(
                code: .invalidRecord,
                message: "cannot record progress in \(self.path): \(error)",
                cause: error
            )
        }
        try self.folder.replace(.progress, with: bytes, action: "record progress in")
    }
}
