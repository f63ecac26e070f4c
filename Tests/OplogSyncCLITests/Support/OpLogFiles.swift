import Foundation

/// Paths of one session's files under a repository root, and raw access to them.
struct SessionFiles: Sendable {
    var root: String
    var session: String

    var sessionFolder: String { "\(self.root)/.muse/op_log/\(self.session)" }
    var opsPath: String { "\(self.sessionFolder)/ops.jsonl" }
    var checkpointPath: String { "\(self.sessionFolder)/checkpoint.json" }

    /// The bytes of `ops.jsonl` (empty when it does not exist).
    func opsBytes() -> [UInt8] {
        FileManager.default.contents(atPath: self.opsPath).map { Array($0) } ?? []
    }

    /// The complete lines of `ops.jsonl`, without their `\n` (an unterminated tail is left out).
    func completeLines() -> [[UInt8]] {
        splitCompleteLines(self.opsBytes())
    }

    /// Appends `bytes` to `ops.jsonl` with one `write(2)` on an `O_APPEND` descriptor, creating
    /// the session folder and file: a writer other than the ones under test.
    func appendRaw(_ bytes: [UInt8]) throws {
        try FileManager.default.createDirectory(atPath: self.sessionFolder, withIntermediateDirectories: true)
        let descriptor = open(self.opsPath, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        defer { close(descriptor) }
        let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        guard written == bytes.count else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
    }

    func appendRaw(_ text: String) throws {
        try self.appendRaw(Array(text.utf8))
    }

    /// Replaces `ops.jsonl` with `lines`, each followed by `\n`.
    func rewrite(lines: [[UInt8]]) throws {
        try FileManager.default.createDirectory(atPath: self.sessionFolder, withIntermediateDirectories: true)
        let bytes = lines.flatMap { $0 + [UInt8(ascii: "\n")] }
        try Data(bytes).write(to: URL(fileURLWithPath: self.opsPath))
    }
}

/// `bytes` split at `\n`; bytes after the last `\n` are dropped.
func splitCompleteLines(_ bytes: [UInt8]) -> [[UInt8]] {
    guard let lastNewline = bytes.lastIndex(of: UInt8(ascii: "\n")) else { return [] }
    return bytes[...lastNewline].split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        .dropLast()
        .map { Array($0) }
}

/// A failure to read something as the JSON a test expected.
struct UnexpectedJSON: Error, CustomStringConvertible {
    var description: String
}

/// JSON read with Foundation's parser, independent of the library under test.
enum JSON {
    static func parse(_ bytes: some Collection<UInt8>) throws -> Any {
        do {
            return try JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])
        } catch {
            throw UnexpectedJSON(description: "not JSON (\(error)): \(String(decoding: Array(bytes).prefix(300), as: UTF8.self))")
        }
    }

    static func parse(_ text: String) throws -> Any {
        try Self.parse(Array(text.utf8))
    }

    /// A normal form of a parsed value (sorted keys, one spelling per string and number), so
    /// that two values are equal as JSON exactly when their normal forms are equal.
    static func normalForm(_ value: Any) throws -> String {
        let data = try JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed])
        return String(decoding: data, as: UTF8.self)
    }

    static func object(_ value: Any) throws -> [String: Any] {
        guard let object = value as? [String: Any] else {
            throw UnexpectedJSON(description: "not a JSON object: \((try? Self.normalForm(value)) ?? "\(value)")")
        }
        return object
    }

    static func array(_ value: Any) throws -> [Any] {
        guard let array = value as? [Any] else {
            throw UnexpectedJSON(description: "not a JSON array: \((try? Self.normalForm(value)) ?? "\(value)")")
        }
        return array
    }
}

/// One op log entry as the tests see it, parsed with Foundation from its line.
struct ParsedEntry: Sendable, Hashable {
    var line: [UInt8]
    var opID: String
    var actorID: String
    var lamportTimestamp: Int
    var parentOpIDs: [String]
    var domain: String
    /// ``JSON/normalForm(_:)`` of `domain_op`.
    var domainOp: String
    /// `domain_op["seq"]`, the per-writer sequence number the tests put in every op.
    var sequenceNumber: Int?

    init(line: some Collection<UInt8>) throws {
        try self.init(value: try JSON.parse(line), line: Array(line))
    }

    init(value: Any, line: [UInt8] = []) throws {
        let object = try JSON.object(value)
        func field<T>(_ key: String, as type: T.Type) throws -> T {
            guard let member = object[key] as? T else {
                throw UnexpectedJSON(description: "entry field \(key) missing or not \(T.self): \(try JSON.normalForm(object))")
            }
            return member
        }
        self.line = line
        self.opID = try field("op_id", as: String.self)
        self.actorID = try field("actor_id", as: String.self)
        self.lamportTimestamp = try field("lamport_ts", as: Int.self)
        self.parentOpIDs = try field("parent_op_ids", as: [String].self)
        self.domain = try field("domain", as: String.self)
        guard let domainOp = object["domain_op"] else {
            throw UnexpectedJSON(description: "entry field domain_op missing: \(try JSON.normalForm(object))")
        }
        self.domainOp = try JSON.normalForm(domainOp)
        self.sequenceNumber = (domainOp as? [String: Any])?["seq"] as? Int
    }
}

extension Array where Element == UInt8 {
    /// The bytes as UTF-8 text, for messages.
    var text: String { String(decoding: self, as: UTF8.self) }
}

/// A line as Muse's writer lays it out (`json.dumps(entry, separators=(",", ":"))`), for ASCII
/// fields: what a Muse process or a replica would put in the file, written without Python.
func museLine(
    opID: String = UUID().uuidString.lowercased(),
    actor: String,
    lamportTimestamp: Int,
    parents: [String] = [],
    op: String = #"{"op":"insert"}"#
) -> String {
    let parentList = parents.map { "\"\($0)\"" }.joined(separator: ",")
    return #"{"op_id":"\#(opID)","actor_id":"\#(actor)","lamport_ts":\#(lamportTimestamp),"#
        + #""parent_op_ids":[\#(parentList)],"domain":"music","domain_op":\#(op),"#
        + #""created_at":"2026-11-25T21:40:58.123456+00:00","intent_id":"","reservation_id":""}"#
}
