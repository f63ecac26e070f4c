import Foundation
import Testing

/// Whether `lhs` comes before `rhs` in the canonical order (`lamport_ts`, `actor_id`, `op_id`),
/// strings compared by code point.
func canonicallyPrecedes(_ lhs: ParsedEntry, _ rhs: ParsedEntry) -> Bool {
    if lhs.lamportTimestamp != rhs.lamportTimestamp { return lhs.lamportTimestamp < rhs.lamportTimestamp }
    if lhs.actorID != rhs.actorID { return lhs.actorID.unicodeScalars.lexicographicallyPrecedes(rhs.actorID.unicodeScalars) }
    return lhs.opID.unicodeScalars.lexicographicallyPrecedes(rhs.opID.unicodeScalars)
}

/// How many times each element occurs.
func multiset<S: Sequence>(_ elements: S) -> [S.Element: Int] where S.Element: Hashable {
    elements.reduce(into: [:]) { counts, element in counts[element, default: 0] += 1 }
}

/// Reads a session's file and requires every line to be complete and to parse as an entry.
func readEntries(
    _ files: SessionFiles,
    sourceLocation: SourceLocation = #_sourceLocation
) throws -> [ParsedEntry] {
    let bytes = files.opsBytes()
    try #require(bytes.last == UInt8(ascii: "\n"), "ops.jsonl ends in a complete line", sourceLocation: sourceLocation)
    var entries: [ParsedEntry] = []
    var invalid: [String] = []
    for (index, line) in splitCompleteLines(bytes).enumerated() {
        do {
            entries.append(try ParsedEntry(line: line))
        } catch {
            invalid.append("line \(index + 1): \(error)")
        }
    }
    try #require(invalid.isEmpty, "lines that are not entries: \(invalid.prefix(5))", sourceLocation: sourceLocation)
    return entries
}

/// Checks that each writer's entries are all in the file, once each, in the order it wrote them
/// (its `seq` 0, 1, …) and with strictly increasing Lamport timestamps, and that no one else wrote.
func expectWritersLanded(
    _ entries: [ParsedEntry],
    expectedCounts: [String: Int],
    sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(entries.count == expectedCounts.values.reduce(0, +), sourceLocation: sourceLocation)
    let byActor = Dictionary(grouping: entries, by: \.actorID)
    #expect(Set(byActor.keys) == Set(expectedCounts.keys), "actors in the file", sourceLocation: sourceLocation)
    for (actor, count) in expectedCounts.sorted(by: { $0.key < $1.key }) {
        let mine = byActor[actor] ?? []
        let sequence = mine.map { $0.sequenceNumber ?? -1 }
        expectSameElements(sequence, Array(0..<count), "\(actor)'s seq numbers, in file order", sourceLocation: sourceLocation)
        let timestamps = mine.map(\.lamportTimestamp)
        #expect(
            zip(timestamps, timestamps.dropFirst()).allSatisfy { $0 < $1 },
            "\(actor)'s Lamport timestamps increase",
            sourceLocation: sourceLocation
        )
    }
    #expect(Set(entries.map(\.opID)).count == entries.count, "op_ids are unique", sourceLocation: sourceLocation)
}

/// Checks that two sequences are equal, reporting their lengths and the first difference
/// (not the whole sequences, which may hold thousands of lines).
func expectSameElements<T: Equatable>(
    _ actual: [T],
    _ expected: [T],
    _ what: String,
    describe: (T) -> String = { "\($0)" },
    sourceLocation: SourceLocation = #_sourceLocation
) {
    guard actual != expected else { return }
    let firstDifference = zip(actual, expected).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(actual.count, expected.count)
    let got = firstDifference < actual.count ? describe(actual[firstDifference]) : "(end)"
    let wanted = firstDifference < expected.count ? describe(expected[firstDifference]) : "(end)"
    Issue.record(
        "\(what): \(actual.count) elements, expected \(expected.count); first difference at index \(firstDifference):\n  got:      \(got)\n  expected: \(wanted)",
        sourceLocation: sourceLocation
    )
}

/// Checks that `oplog-sync log` prints the file's lines byte for byte, and that Muse's reader
/// reads the same entries in the same order: each entry it parsed, written back as Muse's writer
/// writes it, is the very line in the file (which every writer here wrote in that layout).
func expectReadersAgree(
    _ commands: SessionCommands,
    fileEntries: [ParsedEntry],
    sourceLocation: SourceLocation = #_sourceLocation
) async throws {
    let ours = splitCompleteLines(try await commands.oplogSync("log", sourceLocation: sourceLocation).standardOutput)
    expectSameElements(ours, fileEntries.map(\.line), "log prints the file's lines", describe: \.text, sourceLocation: sourceLocation)
    let muse = try await commands.museLike("read", ["--jsonl"], sourceLocation: sourceLocation)
    expectSameElements(
        splitCompleteLines(muse.standardOutput),
        ours,
        "Muse's reader parses the same entries from the lines log prints",
        describe: \.text,
        sourceLocation: sourceLocation
    )
}

/// Checks `oplog-sync delta` against `log --canonical --since-checkpoint` (same ops in the same,
/// canonical order) and against Muse's delta on the same files: the same summary, and the same
/// ops within each `lamport_ts` (Muse orders ties by file position, we by actor and op id).
/// Only for checkpoints both sides read alike (none, or one without a frontier).
///
/// `knownEntries` (the file's entries, already parsed) spares parsing big logs again.
func expectDeltasAgree(
    _ commands: SessionCommands,
    domain: String = "music",
    knownEntries: [ParsedEntry] = [],
    sourceLocation: SourceLocation = #_sourceLocation
) async throws {
    let ours = try await commands.delta(domain: domain, sourceLocation: sourceLocation)
    let muse = try await commands.museDelta(domain: domain, sourceLocation: sourceLocation)
    let canonicalLines = splitCompleteLines(
        try await commands.oplogSync("log", ["--canonical", "--since-checkpoint"], sourceLocation: sourceLocation)
            .standardOutput
    )
    let fileOrderLines = splitCompleteLines(
        try await commands.oplogSync("log", ["--since-checkpoint"], sourceLocation: sourceLocation).standardOutput
    )
    expectSameElements(
        canonicalLines.sorted { $0.lexicographicallyPrecedes($1) },
        fileOrderLines.sorted { $0.lexicographicallyPrecedes($1) },
        "log --canonical prints the same lines as log",
        describe: \.text,
        sourceLocation: sourceLocation
    )
    let known = Dictionary(knownEntries.map { ($0.line, $0) }, uniquingKeysWith: { first, _ in first })
    let canonical = try canonicalLines.map { try known[$0] ?? ParsedEntry(line: $0) }
    #expect(
        zip(canonical, canonical.dropFirst()).allSatisfy { canonicallyPrecedes($0, $1) },
        "log --canonical is sorted by (lamport_ts, actor_id, op_id)",
        sourceLocation: sourceLocation
    )
    let inDomain = canonical.filter { $0.domain == domain }
    #expect(ours.domain == domain, sourceLocation: sourceLocation)
    expectSameElements(ours.ops, inDomain.map(\.domainOp), "delta ops are in canonical order", sourceLocation: sourceLocation)
    #expect(ours.summary == muse.summary, sourceLocation: sourceLocation)
    try #require(ours.ops.count == muse.ops.count, sourceLocation: sourceLocation)
    var start = 0
    var mismatchedGroups: [Int] = []
    while start < inDomain.count {
        let timestamp = inDomain[start].lamportTimestamp
        var end = start
        while end < inDomain.count && inDomain[end].lamportTimestamp == timestamp { end += 1 }
        if multiset(ours.ops[start..<end]) != multiset(muse.ops[start..<end]) { mismatchedGroups.append(timestamp) }
        start = end
    }
    #expect(mismatchedGroups.isEmpty, "ops differ within lamport_ts groups \(mismatchedGroups.prefix(10))", sourceLocation: sourceLocation)
}

/// Every path under `folder`, relative to it, with symbolic links listed but not followed.
func treeListing(_ folder: String) -> [String] {
    var listing: [String] = []
    func walk(_ relative: String) {
        let path = relative.isEmpty ? folder : "\(folder)/\(relative)"
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: path) else { return }
        for name in names.sorted() {
            let child = relative.isEmpty ? name : "\(relative)/\(name)"
            var info = stat()
            guard lstat("\(folder)/\(child)", &info) == 0 else { continue }
            switch info.st_mode & S_IFMT {
            case S_IFDIR:
                listing.append(child + "/")
                walk(child)
            case S_IFLNK:
                listing.append(child + "@")
            default:
                listing.append("\(child) (\(info.st_size) bytes)")
            }
        }
    }
    walk("")
    return listing
}
