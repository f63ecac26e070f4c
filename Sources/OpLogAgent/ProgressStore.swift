import Foundation
import OpLog
import OpLogReplication
import SystemPackage

/// What each peer has durably acknowledged, per session, kept in the state folder so that a
/// restart resumes links instead of sending whole logs again.
///
/// One file, `progress.json`, replaced atomically (written to a temporary file, synced, renamed,
/// folder synced): a crash leaves the previous version or the new one, never a mix. Each
/// session's progress carries the op id of the last acknowledged entry; on load, progress whose
/// op id is no longer at that place in the local log (the log was replaced) is dropped, so a
/// stale record can only cause re-sending, never skipping.
struct ProgressStore: Sendable {
    static let fileName = "progress.json"

    /// A peer's acknowledgement of one session: the first `acknowledged` entries of this node's
    /// file order, the last of which is `lastOpID`.
    struct Mark: Sendable, Hashable, Codable {
        var acknowledged: UInt64
        var lastOpID: String
    }

    private struct Document: Codable {
        var version = 1
        var peers: [String: [String: Mark]]
    }

    let directory: FilePath

    var path: FilePath { self.directory.appending(Self.fileName) }

    /// Every recorded mark, by peer and session; empty when nothing was recorded.
    ///
    /// - Throws: ``AgentError`` when the file exists but is not a progress record (a damaged
    ///   state folder is reported rather than silently ignored).
    func load() throws(AgentError) -> [NodeID: [SessionID: Mark]] {
        guard let data = FileManager.default.contents(atPath: self.path.string) else { return [:] }
        let document: Document
        do {
            document = try JSONDecoder().decode(Document.self, from: data)
        } catch {
            throw AgentError("\(self.path) is not a progress record: \(error)")
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

    /// Replaces the record with `marks`, atomically and durably.
    func save(_ marks: [NodeID: [SessionID: Mark]]) throws(AgentError) {
        var peers: [String: [String: Mark]] = [:]
        for (peer, sessions) in marks {
            for (session, mark) in sessions { peers[peer.rawValue, default: [:]][session.rawValue] = mark }
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let temporary = self.directory.appending(".\(Self.fileName).tmp")
        do {
            let data = try encoder.encode(Document(peers: peers))
            let descriptor = try FileDescriptor.open(
                temporary,
                .writeOnly,
                options: [.create, .truncate],
                permissions: [.ownerReadWrite, .groupRead, .otherRead]
            )
            try descriptor.closeAfter {
                _ = try descriptor.writeAll(data)
                guard fsync(descriptor.rawValue) == 0 else { throw Errno(rawValue: errno) }
            }
            guard rename(temporary.string, self.path.string) == 0 else { throw Errno(rawValue: errno) }
            let folder = try FileDescriptor.open(self.directory, .readOnly)
            try folder.closeAfter {
                guard fsync(folder.rawValue) == 0 else { throw Errno(rawValue: errno) }
            }
        } catch {
            throw AgentError("cannot record progress in \(self.path): \(error)")
        }
    }
}
