import Foundation
import Testing

/// The `oplog-sync` and `muse_like.py` commands the tests run against one session, each
/// required to succeed.
struct SessionCommands: Sendable {
    var files: SessionFiles

    init(root: String, session: String) {
        self.files = SessionFiles(root: root, session: session)
    }

    var root: String { self.files.root }
    var session: String { self.files.session }
    private var rootAndSession: [String] { ["--root", self.root, "--session", self.session] }

    // MARK: - oplog-sync

    /// `oplog-sync append … --op OP`; returns the printed op_id.
    @discardableResult
    func append(
        actor: String,
        op: String,
        domain: String = "music",
        extraArguments: [String] = [],
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> String {
        let output = try await Programs.oplogSync(
            ["append"] + self.rootAndSession + ["--actor", actor, "--domain", domain, "--op", op] + extraArguments
        )
        try #require(output.exitCode == 0, "\(output)", sourceLocation: sourceLocation)
        let lines = output.stdoutLines
        try #require(lines.count == 1, "append prints one op_id: \(output)", sourceLocation: sourceLocation)
        return lines[0]
    }

    /// Runs an `oplog-sync` subcommand on this session and requires exit 0.
    func oplogSync(
        _ subcommand: String,
        _ arguments: [String] = [],
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> ProcessOutput {
        let output = try await Programs.oplogSync([subcommand] + self.rootAndSession + arguments)
        try #require(output.exitCode == 0, "\(output)", sourceLocation: sourceLocation)
        return output
    }

    /// `oplog-sync log [ARGUMENTS]`, parsed.
    func log(_ arguments: [String] = [], sourceLocation: SourceLocation = #_sourceLocation) async throws -> [ParsedEntry] {
        let output = try await self.oplogSync("log", arguments, sourceLocation: sourceLocation)
        return try splitCompleteLines(output.standardOutput).map { try ParsedEntry(line: $0) }
    }

    /// `oplog-sync delta --domain DOMAIN`, parsed.
    func delta(domain: String = "music", sourceLocation: SourceLocation = #_sourceLocation) async throws -> Delta {
        let output = try await self.oplogSync("delta", ["--domain", domain], sourceLocation: sourceLocation)
        try #require(output.stdoutLines.count == 1, "delta prints one line: \(output)", sourceLocation: sourceLocation)
        return try Delta(json: JSON.parse(output.standardOutput))
    }

    // MARK: - muse_like.py

    /// Runs `muse_like.py COMMAND ROOT SESSION ARGUMENTS` and requires exit 0.
    func museLike(
        _ command: String,
        _ arguments: [String] = [],
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> ProcessOutput {
        let output = try await Programs.museLike([command, self.root, self.session] + arguments)
        try #require(output.exitCode == 0, "\(output)", sourceLocation: sourceLocation)
        return output
    }

    /// Muse's writer: `COUNT` entries by `actor`, each with its own open and write.
    func museWrite(actor: String, count: Int, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        _ = try await self.museLike("write", [actor, String(count)], sourceLocation: sourceLocation)
    }

    /// Muse's writer: one entry with a chosen `lamport_ts` (and extra fields); returns its op_id.
    @discardableResult
    func museAppend(
        actor: String,
        lamportTimestamp: Int,
        op: String,
        extraArguments: [String] = [],
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> String {
        let output = try await self.museLike(
            "append",
            [actor, String(lamportTimestamp), op] + extraArguments,
            sourceLocation: sourceLocation
        )
        return output.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Muse's `read_all()`.
    func museRead(sourceLocation: SourceLocation = #_sourceLocation) async throws -> [ParsedEntry] {
        let output = try await self.museLike("read", sourceLocation: sourceLocation)
        return try JSON.array(JSON.parse(output.standardOutput)).map { try ParsedEntry(value: $0) }
    }

    /// Muse's `replay_since_checkpoint()`.
    func museReplay(sourceLocation: SourceLocation = #_sourceLocation) async throws -> [ParsedEntry] {
        let output = try await self.museLike("replay", sourceLocation: sourceLocation)
        return try JSON.array(JSON.parse(output.standardOutput)).map { try ParsedEntry(value: $0) }
    }

    /// Muse's `to_structured_delta(domain)`.
    func museDelta(domain: String = "music", sourceLocation: SourceLocation = #_sourceLocation) async throws -> Delta {
        let output = try await self.museLike("delta", [domain], sourceLocation: sourceLocation)
        return try Delta(json: JSON.parse(output.standardOutput))
    }
}

/// A structured delta `{"domain","ops","summary"}`, with each op in ``JSON/normalForm(_:)``.
struct Delta: Sendable, Equatable {
    var domain: String
    var ops: [String]
    var summary: String

    init(json: Any) throws {
        let object = try JSON.object(json)
        guard let domain = object["domain"] as? String, let ops = object["ops"] as? [Any],
            let summary = object["summary"] as? String, object.count == 3
        else { throw UnexpectedJSON(description: "not a structured delta: \(try JSON.normalForm(object))") }
        self.domain = domain
        self.ops = try ops.map { try JSON.normalForm($0) }
        self.summary = summary
    }
}

/// A JSON string literal for `text` (for building op JSON in tests).
func jsonString(_ text: String) -> String {
    (try? JSON.normalForm(text)) ?? "\"\""
}
