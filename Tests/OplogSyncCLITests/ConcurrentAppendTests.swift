import Foundation
import Synchronization
import Testing

/// Muse's writer and `oplog-sync append` appending to the same session at the same time
/// (DESIGN §2: "Everything here must keep working with that writer and that reader on the same
/// files, at the same time").
@Suite(
    "Concurrent appends with Muse's writer",
    .serialized,  // each test loads both cores on its own
    .enabled(if: TestEnvironment.hasPython, "python3 is not on PATH: skipping the Muse interop tests")
)
struct ConcurrentAppendTests {
    static let kinds = ["insert", "delete", "move", "velocity", "tempo"]

    /// One domain op per line for `append --op -`, with the writer's name and a sequence number.
    static func opLines(actor: String, count: Int) -> [UInt8] {
        var text = ""
        for sequenceNumber in 0..<count {
            text += opJSON(actor: actor, sequenceNumber: sequenceNumber) + "\n"
        }
        return Array(text.utf8)
    }

    static func opJSON(actor: String, sequenceNumber: Int) -> String {
        // Raw UTF-8 in the input: the CLI must write it as Muse does, \u-escaped.
        #"{"op":"\#(Self.kinds[sequenceNumber % Self.kinds.count])","pitch":\#(60 + sequenceNumber % 12),"#
            + #""writer":"\#(actor)","seq":\#(sequenceNumber),"text":"café ♫"}"#
    }

    @Test("2 Muse writers and 2 `append --op -` processes, 5,000 lines each, into one session")
    func streamingWritersShareOneSession() async throws {
        let linesPerWriter = 5_000
        let cliActors = ["cli-a", "cli-b"]
        let museActors = ["muse-a", "muse-b"]
        try await withTemporaryFolder { folder in
            let commands = SessionCommands(root: folder.path, session: "live-session")
            let files = commands.files
            var cliOutputs: [String: ProcessOutput] = [:]
            try await withThrowingTaskGroup(of: (String, ProcessOutput).self) { group in
                for actor in cliActors {
                    let input = Self.opLines(actor: actor, count: linesPerWriter)
                    let arguments = [
                        "append", "--root", folder.path, "--session", commands.session,
                        "--actor", actor, "--domain", "music", "--op", "-",
                    ]
                    group.addTask { (actor, try await Programs.oplogSync(arguments, input: input)) }
                }
                // Start Muse's writers once both of ours are appending, so all four overlap.
                try await waitUntil("both oplog-sync writers to append", timeout: .seconds(60)) {
                    let text = files.opsBytes().text
                    return cliActors.allSatisfy { text.contains(#""actor_id":"\#($0)""#) }
                }
                for actor in museActors {
                    let arguments = ["write", folder.path, commands.session, actor, String(linesPerWriter)]
                    group.addTask { (actor, try await Programs.museLike(arguments)) }
                }
                for try await (actor, output) in group {
                    #expect(output.exitCode == 0, "\(output)")
                    cliOutputs[actor] = output
                }
            }

            let bytes = files.opsBytes()
            #expect(bytes.allSatisfy { $0 < 0x80 }, "every writer escapes non-ASCII text as Muse does")
            let entries = try readEntries(files)
            #expect(entries.count == 4 * linesPerWriter)
            expectWritersLanded(
                entries,
                expectedCounts: Dictionary(uniqueKeysWithValues: (cliActors + museActors).map { ($0, linesPerWriter) })
            )
            for actor in cliActors {
                let printed = cliOutputs[actor]?.stdoutLines ?? []
                expectSameElements(printed, entries.filter { $0.actorID == actor }.map(\.opID), "\(actor) printed its op_ids")
                #expect(printed.allSatisfy { $0.hasPrefix("sha256:") })
            }
            for actor in museActors {
                let ids = entries.filter { $0.actorID == actor }.map(\.opID)
                #expect(ids.allSatisfy { UUID(uuidString: $0) != nil }, "Muse's writer uses UUID op_ids")
            }
            Self.expectInterleaved(entries, cliActors: cliActors, museActors: museActors)

            let verify = try await Programs.oplogSync(["verify", "--root", folder.path])
            #expect(verify.exitCode == 0, "\(verify)")

            try await expectReadersAgree(commands, fileEntries: entries)
            try await expectDeltasAgree(commands, knownEntries: entries)
            // Muse's own delta is the file's entries sorted by lamport_ts alone, ties in file order.
            let museDelta = try await commands.museDelta()
            let museOrder = entries.enumerated()
                .sorted { ($0.element.lamportTimestamp, $0.offset) < ($1.element.lamportTimestamp, $1.offset) }
                .map(\.element.domainOp)
            expectSameElements(museDelta.ops, museOrder, "Muse's delta: sorted by lamport_ts, ties in file order")
        }
    }

    @Test("2 × 200 one-shot `append --op JSON` invocations racing Muse's writer")
    func oneShotAppendsRaceMuseWriter() async throws {
        let invocationsPerLoop = 200
        let museLinesPerRun = 20
        let cliActors = ["once-a", "once-b"]
        try await withTemporaryFolder { folder in
            let commands = SessionCommands(root: folder.path, session: "one-shot")
            let files = commands.files
            let cliFinished = FinishedCount()
            // For each (actor, seq): the printed op_id and the file size just before the process started.
            var invocations: [String: [(opID: String, sizeBefore: Int)]] = [:]
            var museRuns = 0
            try await withThrowingTaskGroup(of: LoopResult.self) { group in
                for actor in cliActors {
                    group.addTask {
                        defer { cliFinished.increment() }
                        var results: [(opID: String, sizeBefore: Int)] = []
                        for sequenceNumber in 0..<invocationsPerLoop {
                            let sizeBefore = files.opsBytes().count
                            let opID = try await commands.append(
                                actor: actor,
                                op: Self.opJSON(actor: actor, sequenceNumber: sequenceNumber)
                            )
                            results.append((opID, sizeBefore))
                        }
                        return .cli(actor, results)
                    }
                }
                group.addTask {
                    // Muse's writer, one short-lived process after another, until ours are done.
                    var runs = 0
                    repeat {
                        try await commands.museWrite(actor: "muse-\(runs)", count: museLinesPerRun)
                        runs += 1
                    } while cliFinished.value < cliActors.count
                    return .muse(runs)
                }
                for try await result in group {
                    switch result {
                    case .cli(let actor, let results): invocations[actor] = results
                    case .muse(let runs): museRuns = runs
                    }
                }
            }

            let entries = try readEntries(files)
            var expectedCounts = Dictionary(uniqueKeysWithValues: cliActors.map { ($0, invocationsPerLoop) })
            for run in 0..<museRuns { expectedCounts["muse-\(run)"] = museLinesPerRun }
            expectWritersLanded(entries, expectedCounts: expectedCounts)
            Self.expectInterleaved(entries, cliActors: cliActors, museActors: (0..<museRuns).map { "muse-\($0)" })

            // DESIGN §3.6: each append is above every timestamp that was in the file when it started.
            let lines = splitCompleteLines(files.opsBytes())
            var lineEnds: [Int] = []
            var offset = 0
            for line in lines {
                offset += line.count + 1
                lineEnds.append(offset)
            }
            var highestBefore = [0]  // highestBefore[k]: the highest lamport_ts among the first k lines
            for entry in entries { highestBefore.append(max(highestBefore[highestBefore.count - 1], entry.lamportTimestamp)) }
            for actor in cliActors {
                let mine = entries.filter { $0.actorID == actor }
                let results = invocations[actor] ?? []
                expectSameElements(results.map(\.opID), mine.map(\.opID), "\(actor) printed the op_ids in the file")
                for (entry, result) in zip(mine, results) {
                    let linesBefore = lineEnds.prefix { $0 <= result.sizeBefore }.count
                    #expect(
                        entry.lamportTimestamp > highestBefore[linesBefore],
                        "\(actor) seq \(entry.sequenceNumber ?? -1) got \(entry.lamportTimestamp), but \(highestBefore[linesBefore]) was already in the file"
                    )
                }
            }

            let verify = try await Programs.oplogSync(["verify", "--root", folder.path])
            #expect(verify.exitCode == 0, "\(verify)")
            try await expectReadersAgree(commands, fileEntries: entries)
            try await expectDeltasAgree(commands, knownEntries: entries)
        }
    }

    /// How many of the concurrent loops have finished.
    final class FinishedCount: Sendable {
        private let count = Atomic<Int>(0)
        var value: Int { self.count.load(ordering: .sequentiallyConsistent) }
        func increment() { self.count.add(1, ordering: .sequentiallyConsistent) }
    }

    enum LoopResult: Sendable {
        case cli(String, [(opID: String, sizeBefore: Int)])
        case muse(Int)
    }

    /// Fails unless the writers really ran at the same time: some of Muse's lines sit between
    /// the first and last line of each of our writers.
    static func expectInterleaved(
        _ entries: [ParsedEntry],
        cliActors: [String],
        museActors: [String],
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let museSet = Set(museActors)
        for actor in cliActors {
            guard let first = entries.firstIndex(where: { $0.actorID == actor }),
                let last = entries.lastIndex(where: { $0.actorID == actor })
            else { continue }
            let museInside = entries[first...last].filter { museSet.contains($0.actorID) }.count
            #expect(museInside > 0, "no Muse line landed among \(actor)'s: the writers did not overlap", sourceLocation: sourceLocation)
        }
    }
}
