import Foundation
import OpLog
import SystemPackage

/// The greatest checkpoint of each session that came from peers, so a read-only replica still
/// forwards it after a restart: `remote_checkpoints.json` (see ``StateFile``),
/// `{"SESSION": "CHECKPOINT JSON"}`, each checkpoint's exact bytes as a string, replaced whole
/// and durably (``StateFolder/replace(_:with:synchronize:permissions:action:)``).
struct RemoteCheckpointRecord: Sendable {
    /// The state folder holding `remote_checkpoints.json`.
    let folder: StateFolder

    /// The record in `folder`; nothing is read or written until asked.
    init(folder: StateFolder) {
        self.folder = folder
    }

    /// Where the record is, for messages.
    var path: FilePath { self.folder.path(of: .remoteCheckpoints) }

    /// The recorded checkpoints; none when nothing was recorded. A session id or checkpoint
    /// that no longer parses is left out.
    ///
    /// - Throws: ``AgentError`` `.stateFileCorrupt` when the file is not a JSON object of
    ///   strings, `.io` when it cannot be read.
    func load() throws(AgentError) -> [SessionID: Checkpoint] {
        guard let bytes = try self.folder.contents(of: .remoteCheckpoints, action: "read peers' checkpoints in")
        else { return [:] }
        let raw: [String: String]
        do {
            raw = try JSONDecoder().decode([String: String].self, from: Data(bytes))
        } catch {
            throw AgentError(
                code: .stateFileCorrupt,
                message: "\(self.path) is not a record of peers' checkpoints: \(error)",
                cause: error
            )
        }
        var checkpoints: [SessionID: Checkpoint] = [:]
        for (session, text) in raw {
            if let id = try? SessionID(validating: session), let checkpoint = try? Checkpoint(bytes: Array(text.utf8)) {
                checkpoints[id] = checkpoint
            }
        }
        return checkpoints
    }

    /// Replaces the record with `checkpoints`, atomically and durably.
    ///
    /// - Throws: ``AgentError`` `.io` (`.invalidRecord` if it cannot be encoded); the previous
    ///   record is then untouched.
    func save(_ checkpoints: [SessionID: Checkpoint]) throws(AgentError) {
        var raw: [String: String] = [:]
        for (session, checkpoint) in checkpoints {
            raw[session.rawValue] = String(decoding: checkpoint.bytes, as: UTF8.self)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let bytes: [UInt8]
        do {
            bytes = Array(try encoder.encode(raw))
        } catch {
            throw AgentError(
                code: .invalidRecord,
                message: "cannot record peers' checkpoints in \(self.path): \(error)",
                cause: error
            )
        }
        try self.folder.replace(.remoteCheckpoints, with: bytes, action: "record peers' checkpoints in")
    }
}
