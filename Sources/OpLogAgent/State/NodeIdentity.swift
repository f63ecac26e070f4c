import Foundation
import OpLog
import OpLogReplication

/// This node's id, kept in the state folder as `node_id` (see ``StateFile``): one line.
enum NodeIdentity {
    /// Opens the state folder (``StateFolder/init(opening:opLogFolder:)``: never inside
    /// `op_log/`, created 0700 if needed) and returns this node's id, as
    /// ``load(in:override:)`` does.
    ///
    /// - Throws: ``AgentError`` `.stateFolder` when the folder is inside `op_log/` or cannot be
    ///   created, else as ``load(in:override:)``.
    static func load(configuration: AgentConfiguration) throws(AgentError) -> String {
        let folder = try StateFolder(opening: configuration.stateDirectory, opLogFolder: configuration.layout.opLogPath)
        return try Self.load(in: folder, override: configuration.nodeID)
    }

    /// This node's id: `override` if given (and recorded when none is), else the recorded one,
    /// else a new random one, recorded durably (``StateFolder/replace(_:with:synchronize:permissions:action:)``)
    /// before it is returned.
    ///
    /// - Throws: ``AgentError`` `.stateFileCorrupt` when the recorded id is not a node id
    ///   (``NodeID/init(validating:)``: 1 to 64 bytes of printable ASCII, no spaces), `.io` when
    ///   it cannot be read or recorded. An `override` is the caller's to validate.
    static func load(in folder: StateFolder, override: String?) throws(AgentError) -> String {
        let path = folder.path(of: .nodeID)
        if let bytes = try folder.contents(of: .nodeID, action: "read the node id in") {
            guard let text = String(validating: bytes, as: UTF8.self)?.trimmingCharacters(in: .whitespacesAndNewlines),
                !text.isEmpty
            else { throw AgentError(code: .stateFileCorrupt, message: "\(path) does not hold a node id") }
            if let override { return override }
            do {
                _ = try NodeID(validating: text)
            } catch {
                throw AgentError(
                    code: .stateFileCorrupt,
                    message: "\(path) does not hold a valid node id: \(error.message)",
                    cause: error
                )
            }
            return text
        }
        let id = override ?? UUID().uuidString.lowercased()
        try folder.replace(.nodeID, with: Array((id + "\n").utf8), action: "record the node id in")
        return id
    }
}
