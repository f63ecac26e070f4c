import Foundation
import SystemPackage

@testable import OpLog

/// A fresh folder under the system temp folder, removed when the value is released.
final class TemporaryDirectory {
    let path: String

    init() throws {
        var template = Array((NSTemporaryDirectory() + "/oplog-tests-XXXXXX").utf8CString)
        guard let result = mkdtemp(&template) else { throw CocoaError(.fileWriteUnknown) }
        self.path = String(cString: result)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: self.path)
    }

    var layout: OpLogLayout { OpLogLayout(root: FilePath(self.path)) }

    func log(_ session: String) throws -> SessionLog {
        SessionLog(layout: self.layout, sessionID: try SessionID(validating: session))
    }

    func opLog(_ session: String) throws -> OpLog {
        OpLog(root: FilePath(self.path), sessionID: try SessionID(validating: session))
    }

    func sessionFolder(_ session: String) -> String { "\(self.path)/.muse/op_log/\(session)" }

    /// Appends raw bytes to a session's ops.jsonl as a foreign writer would (creating folders).
    func appendRaw(_ text: String, session: String) throws {
        try self.appendRaw(Array(text.utf8), session: session)
    }

    func appendRaw(_ bytes: [UInt8], session: String) throws {
        let folder = self.sessionFolder(session)
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let fd = open("\(folder)/ops.jsonl", O_WRONLY | O_APPEND | O_CREAT, 0o644)
        guard fd >= 0 else { throw CocoaError(.fileWriteUnknown) }
        defer { close(fd) }
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count else { throw CocoaError(.fileWriteUnknown) }
    }

    func contents(_ relativePath: String) throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: "\(self.path)/\(relativePath)")))
    }

    func opsBytes(_ session: String) throws -> [UInt8] {
        try self.contents(".muse/op_log/\(session)/ops.jsonl")
    }

    /// Sets a file's modification time `seconds` into the past.
    func age(_ relativePath: String, bySeconds seconds: Int) throws {
        let date = Date(timeIntervalSinceNow: -Double(seconds))
        try FileManager.default.setAttributes([.modificationDate: date], ofItemAtPath: "\(self.path)/\(relativePath)")
    }
}

/// A Muse-style line (UUID-like opaque id), as Python's compact `json.dumps` writes it.
func museLine(
    id: String,
    actor: String = "py",
    lamport: Int,
    parents: [String] = [],
    domain: String = "music",
    op: String = #"{"op":"insert","pitch":60}"#
) -> String {
    let parentList = parents.map { "\"\($0)\"" }.joined(separator: ",")
    return #"{"op_id":"\#(id)","actor_id":"\#(actor)","lamport_ts":\#(lamport),"parent_op_ids":[\#(parentList)],"domain":"\#(domain)","domain_op":\#(op),"created_at":"2026-01-01T00:00:00+00:00","intent_id":"","reservation_id":""}"#
}

extension Array where Element == UInt8 {
    var text: String { String(decoding: self, as: UTF8.self) }
}
