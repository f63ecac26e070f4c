import Foundation
import Testing

/// One replica of a session: an agent's copy of its files.
struct Replica: Sendable {
    var name: String
    var files: SessionFiles
}

extension AgentProcess {
    /// This agent's copy of `session`.
    func replica(_ session: String) -> Replica {
        Replica(name: self.name, files: self.files(session))
    }
}

/// What one replica's `ops.jsonl` holds right now, read once.
struct ReplicaContents {
    var name: String
    /// Complete lines, without their `\n`.
    var lines: [[UInt8]]
    /// Bytes after the last `\n` (an unfinished line).
    var tail: [UInt8]

    init(_ replica: Replica) {
        self.name = replica.name
        let bytes = replica.files.opsBytes()
        self.lines = splitCompleteLines(bytes)
        let end = bytes.lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 } ?? 0
        self.tail = Array(bytes[end...])
    }

    /// The op_id of each line that is a JSON object with a string `op_id`.
    var opIDs: [String] { self.lines.compactMap(opID(of:)) }
}

/// The `op_id` of a line, if it is a JSON object with one.
func opID(of line: [UInt8]) -> String? {
    guard let object = (try? JSON.parse(line)) as? [String: Any] else { return nil }
    return object["op_id"] as? String
}

/// `nil` once every replica holds the same set of complete lines, at least `minimumLines` of
/// them, and no unfinished tail; otherwise what differs.
func sameLinesGap(_ replicas: [Replica], minimumLines: Int = 1) -> String? {
    let contents = replicas.map(ReplicaContents.init)
    let sets = contents.map { Set($0.lines) }
    let union = sets.reduce(into: Set<[UInt8]>()) { $0.formUnion($1) }
    var gaps: [String] = []
    for (replica, lines) in zip(contents, sets) {
        var gap = "\(replica.name): \(replica.lines.count) lines"
        if !replica.tail.isEmpty { gap += " + \(replica.tail.count) unfinished bytes" }
        let missing = union.subtracting(lines)
        if let example = missing.first { gap += ", lacks \(missing.count) (e.g. \(example.text.prefix(160)))" }
        if !missing.isEmpty || !replica.tail.isEmpty || replica.lines.count < minimumLines { gaps.append(gap) }
    }
    return gaps.isEmpty ? nil : "\(gaps.joined(separator: "; ")) (want the same lines everywhere, at least \(minimumLines))"
}

/// `nil` once `replica` holds a line for each of `opIDs`; otherwise how many it lacks.
func holdsGap(_ replica: Replica, _ opIDs: some Collection<String>) -> String? {
    let present = Set(ReplicaContents(replica).opIDs)
    let missing = opIDs.filter { !present.contains($0) }
    guard let first = missing.first else { return nil }
    return "\(replica.name) lacks \(missing.count) of \(opIDs.count) entries (e.g. \(first))"
}

/// How many lines of `replica` carry `opID` (by parsing every line).
func occurrences(of opID: String, in replica: Replica) -> Int {
    ReplicaContents(replica).opIDs.filter { $0 == opID }.count
}

/// The invariants of DESIGN §3 that one replica's file must satisfy on its own: every line
/// complete and an entry, no op_id twice, every entry after each of its parents in the file.
func fileProblems(_ replica: Replica) -> (entries: [ParsedEntry], problems: [String]) {
    let contents = ReplicaContents(replica)
    var problems: [String] = []
    if !contents.tail.isEmpty {
        problems.append("\(replica.name): unfinished last line \(contents.tail.text.prefix(120))")
    }
    var entries: [ParsedEntry] = []
    for (index, line) in contents.lines.enumerated() {
        do {
            entries.append(try ParsedEntry(line: line))
        } catch {
            problems.append("\(replica.name) line \(index + 1) is not an entry (\(error)): \(line.text.prefix(200))")
        }
    }
    var position: [String: Int] = [:]
    for (index, entry) in entries.enumerated() {
        if let earlier = position[entry.opID] {
            problems.append("\(replica.name): op_id \(entry.opID) twice (entries \(earlier + 1) and \(index + 1))")
        } else {
            position[entry.opID] = index
        }
    }
    for (index, entry) in entries.enumerated() {
        for parent in entry.parentOpIDs {
            if let parentIndex = position[parent], parentIndex > index {
                problems.append(
                    "\(replica.name): \(entry.opID) (entry \(index + 1)) comes before its parent \(parent) (entry \(parentIndex + 1))"
                )
            }
        }
    }
    return (entries, problems)
}

/// Every per-file invariant on each replica, plus agreement between them: the same op_ids
/// (`expectedOpIDs`, when given) and byte-identical lines for each op_id.
func replicaProblems(_ replicas: [Replica], expectedOpIDs: Set<String>? = nil) -> [String] {
    var problems: [String] = []
    var lineByID: [String: (replica: String, line: [UInt8])] = [:]
    var idSets: [(String, Set<String>)] = []
    for replica in replicas {
        let (entries, fileProblems) = fileProblems(replica)
        problems += fileProblems
        idSets.append((replica.name, Set(entries.map(\.opID))))
        for entry in entries {
            if let first = lineByID[entry.opID] {
                if first.line != entry.line {
                    problems.append(
                        "\(entry.opID) differs: \(first.replica) has \(first.line.text.prefix(200)), \(replica.name) has \(entry.line.text.prefix(200))"
                    )
                }
            } else {
                lineByID[entry.opID] = (replica.name, entry.line)
            }
        }
    }
    let expected = expectedOpIDs ?? idSets.first?.1 ?? []
    for (name, ids) in idSets where ids != expected {
        let missing = expected.subtracting(ids)
        let extra = ids.subtracting(expected)
        problems.append(
            "\(name): \(ids.count) op_ids, \(missing.count) missing (e.g. \(missing.first ?? "-")), \(extra.count) unexpected (e.g. \(extra.first ?? "-"))"
        )
    }
    return problems
}

/// `oplog-sync verify --root R --session S` on each replica; the ones that do not exit 0.
func verifyProblems(_ replicas: [Replica]) async throws -> [String] {
    var problems: [String] = []
    for replica in replicas {
        let output = try await Programs.oplogSync(["verify", "--root", replica.files.root, "--session", replica.files.session])
        if output.exitCode != 0 { problems.append("verify on \(replica.name): \(output)") }
    }
    return problems
}

extension AgentCluster {
    /// Waits until every agent's copy of `session` holds the same lines (at least
    /// `minimumLines`), then checks the invariants on the files and runs `verify` on each.
    func expectConverged(
        _ session: String,
        on agents: [AgentProcess],
        minimumLines: Int = 1,
        expectedOpIDs: Set<String>? = nil,
        timeout: Duration = .seconds(60),
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let replicas = agents.map { $0.replica(session) }
        try await waitFor("\(session) to converge on \(agents.map(\.name))", timeout: timeout) {
            sameLinesGap(replicas, minimumLines: minimumLines)
        }
        self.expectNoProblems(
            replicaProblems(replicas, expectedOpIDs: expectedOpIDs),
            "replicas of \(session) disagree or break an invariant",
            sourceLocation: sourceLocation
        )
        self.expectNoProblems(try await verifyProblems(replicas), "verify fails", sourceLocation: sourceLocation)
    }
}

/// Appends one entry per op with `oplog-sync append --op -` (one process); returns the
/// printed op_ids.
@discardableResult
func appendOps(
    _ agent: AgentProcess,
    session: String,
    actor: String,
    count: Int,
    extraArguments: [String] = [],
    sourceLocation: SourceLocation = #_sourceLocation
) async throws -> [String] {
    let output = try await Programs.oplogSync(
        ["append", "--root", agent.root, "--session", session, "--actor", actor, "--domain", "music", "--op", "-"]
            + extraArguments,
        input: ConcurrentAppendTests.opLines(actor: actor, count: count)
    )
    try #require(output.exitCode == 0, "\(output)", sourceLocation: sourceLocation)
    try #require(output.stdoutLines.count == count, "one op_id per op: \(output)", sourceLocation: sourceLocation)
    return output.stdoutLines
}

/// The TCP connections in state ESTABLISHED whose far end is one of `ports` on this host (the
/// dialling side of each connection to those listeners), from `/proc/net/tcp`.
func establishedConnections(toPorts ports: Set<Int>) -> Int {
    // Read to the end: procfs files report size 0, and a reader that trusts the size (or stops
    // after one page) misses rows once the table is long (after tests with many connections).
    guard let handle = FileHandle(forReadingAtPath: "/proc/net/tcp") else { return -1 }
    defer { try? handle.close() }
    let table = String(decoding: handle.readDataToEndOfFile(), as: UTF8.self)
    var count = 0
    for row in table.split(separator: "\n").dropFirst() {
        let fields = row.split(separator: " ")
        guard fields.count > 3, fields[3] == "01" else { continue }
        let local = fields[1].split(separator: ":")
        let remote = fields[2].split(separator: ":")
        guard local.count == 2, remote.count == 2, let localPort = Int(local[1], radix: 16),
            let remotePort = Int(remote[1], radix: 16)
        else { continue }
        if ports.contains(remotePort) && !ports.contains(localPort) { count += 1 }
    }
    return count
}
