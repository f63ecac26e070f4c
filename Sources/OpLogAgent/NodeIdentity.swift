import Foundation
import OpLog
import SystemPackage

/// The agent's state folder and the node id kept in it.
enum NodeIdentity {
    static let fileName = "node_id"

    /// Creates the state folder if needed and returns this node's id: `override` if given (and
    /// recorded when none is), else the recorded one, else a new random one, recorded.
    ///
    /// - Throws: ``AgentError`` when the folder is inside `op_log/`, cannot be created, or the
    ///   recorded id is unreadable.
    static func load(configuration: AgentConfiguration) throws(AgentError) -> String {
        let state = configuration.stateDirectory.lexicallyNormalized()
        let opLog = configuration.layout.opLogPath.lexicallyNormalized()
        guard !state.starts(with: opLog) else {
            throw AgentError("state folder \(state) must not be inside \(opLog)")
        }
        let manager = FileManager.default
        do {
            try manager.createDirectory(atPath: state.string, withIntermediateDirectories: true)
        } catch {
            throw AgentError("cannot create state folder \(state): \(error.localizedDescription)")
        }
        let file = state.appending(Self.fileName).string
        if let data = manager.contents(atPath: file) {
            guard let text = String(data: data, encoding: .utf8)?.trimmingCharacters(in: .whitespacesAndNewlines),
                !text.isEmpty
            else { throw AgentError("\(file) does not hold a node id") }
            return configuration.nodeID ?? text
        }
        let id = configuration.nodeID ?? UUID().uuidString.lowercased()
        do {
            try Data((id + "\n").utf8).write(to: URL(fileURLWithPath: file), options: .atomic)
        } catch {
            throw AgentError("cannot record the node id in \(file): \(error.localizedDescription)")
        }
        return id
    }
}
