import Foundation
import Testing

extension RunProcessTests {
    /// DESIGN §3.9 on start (issue #5, item 1): a restarted node takes what it knew of each log
    /// from its entry index in the state folder and reads only the lines after it; an index
    /// that no longer matches the log (the log was replaced, cut or rewritten while the node was
    /// down) is thrown away with a warning and rebuilt from the file.
    ///
    /// The daemon's `indexed` line says how many entries came from the index (`from_index`) and
    /// how many lines it read (`lines_read`): the tests prove what was not read by those counts.
    @Suite("Entry index")
    struct IndexTests {
        @Test("Restart with a valid index: B restores its 300 entries from it and reads only the 7 lines appended while it was down")
        func restartReadsOnlyNewLines() async throws {
            let session = "indexed"
            try await withAgentCluster { cluster in
                let a = try await cluster.start("A")
                let b = try await cluster.start("B", peers: [a])
                let received = try await appendOps(a, session: session, actor: "writer-a", count: 300)
                try await cluster.expectConverged(session, on: [a, b], expectedOpIDs: Set(received))

                try await b.stop()
                #expect(
                    FileManager.default.fileExists(atPath: Self.indexPath(b, session)),
                    "B keeps an index of \(session) in its state folder"
                )
                #expect(
                    !FileManager.default.fileExists(atPath: "\(b.files(session).sessionFolder)/index"),
                    "and nothing in op_log/"
                )
                let whileDown = try await appendOps(b, session: session, actor: "writer-b", count: 7)
                try await b.start(listen: .same)
                let counts = try #require(Self.startCounts(b), "B logs its start\n\(b.logTail())")
                #expect(counts.fromIndex == 300, "every entry B knew came from the index")
                #expect(counts.linesRead == 7, "only the lines appended while B was down were read")
                #expect(!b.logText().contains("entry index does not match"), "the index matched")

                let after = try await appendOps(a, session: session, actor: "writer-a", count: 5)
                try await cluster.expectConverged(session, on: [a, b], expectedOpIDs: Set(received + whileDown + after))

                // A, whose file holds its own entries and B's, restores all of them too.
                try await a.restart(listen: .same)
                let countsOnA = try #require(Self.startCounts(a), "A logs its start\n\(a.logTail())")
                #expect(countsOnA.fromIndex == 312 && countsOnA.linesRead == 0)
                let last = try await appendOps(b, session: session, actor: "writer-b", count: 3)
                try await cluster.expectConverged(
                    session,
                    on: [a, b],
                    expectedOpIDs: Set(received + whileDown + after + last)
                )
            }
        }

        /// What happens to A's log while A is down.
        enum Edit: String, CaseIterable, CustomTestStringConvertible {
            /// Five lines appended, then the file replaced by a copy (a new inode).
            case replaced
            /// The last 20 lines cut off.
            case truncated
            /// The last 20 lines cut off, then 30 other lines appended: longer than before, and
            /// other bytes where the last indexed line was.
            case rewritten

            var testDescription: String { self.rawValue }

            /// The reason the warning must name.
            var reason: String {
                switch self {
                case .replaced: "ops.jsonl was replaced"
                case .truncated: "ops.jsonl is shorter than the index says"
                case .rewritten: "the last indexed line of ops.jsonl changed"
                }
            }
        }

        @Test(
            "A log replaced, cut or rewritten while A was down: A warns, rebuilds its index from the file, and A and B converge on every entry either holds",
            arguments: Edit.allCases
        )
        func editedLogIsRebuilt(_ edit: Edit) async throws {
            let session = "edited-\(edit.rawValue)"
            try await withAgentCluster { cluster in
                let a = try await cluster.start("A")
                let b = try await cluster.start("B", peers: [a])
                let first = try await appendOps(a, session: session, actor: "writer-a", count: 100)
                try await cluster.expectConverged(session, on: [a, b], expectedOpIDs: Set(first))
                try await a.stop()

                let files = a.files(session)
                switch edit {
                case .replaced:
                    try await appendOps(a, session: session, actor: "writer-a2", count: 5)
                    let copy = files.opsPath + ".copy"
                    try Data(files.opsBytes()).write(to: URL(fileURLWithPath: copy))
                    #expect(rename(copy, files.opsPath) == 0)
                case .truncated:
                    try Self.cutLastLines(20, of: files)
                case .rewritten:
                    try Self.cutLastLines(20, of: files)
                    try await appendOps(a, session: session, actor: "writer-a2", count: 30)
                }
                let linesInFile = files.completeLines().count
                let editedIDs = ReplicaContents(a.replica(session)).opIDs

                try await a.start(listen: .same)
                let warnings = a.logText().split(separator: "\n").filter { $0.contains("entry index does not match") }
                #expect(warnings.count == 1, "one warning\n\(a.logTail())")
                #expect(warnings.first?.contains(session) == true)
                #expect(warnings.first?.contains(edit.reason) == true, "\(warnings)")
                let counts = try #require(Self.startCounts(a), "A logs its start\n\(a.logTail())")
                #expect(counts.fromIndex == 0 && counts.linesRead == linesInFile, "A read the whole file again")

                let onA = try await appendOps(a, session: session, actor: "writer-a", count: 5)
                let onB = try await appendOps(b, session: session, actor: "writer-b", count: 5)
                let aReplica = a.replica(session)
                let bReplica = b.replica(session)
                // Reconciliation gives A back what the edit took out of its file (B still has it).
                let everything = Set(first + editedIDs + onA + onB)
                try await waitFor("A and B to hold every entry either holds") {
                    holdsGap(bReplica, Array(everything)) ?? holdsGap(aReplica, Array(everything))
                }
                #expect(ReplicaContents(aReplica).opIDs.count == everything.count, "A's file: each entry once")
                #expect(ReplicaContents(bReplica).opIDs.count == everything.count, "B's file: each entry once")
                #expect(Set(onA).isSubset(of: Set(ReplicaContents(bReplica).opIDs)))
                cluster.expectNoProblems(
                    fileProblems(aReplica).problems + fileProblems(bReplica).problems,
                    "replicas of \(session) break an invariant"
                )

                // The rebuilt index is good for the next start.
                try await a.restart(listen: .same)
                let again = try #require(Self.startCounts(a))
                #expect(again.fromIndex == everything.count && again.linesRead == 0, "\(again)")
            }
        }

        static func indexPath(_ agent: AgentProcess, _ session: String) -> String {
            "\(agent.stateDirectory)/index/\(session).idx"
        }

        /// `from_index` and `lines_read` of the agent's last `indexed` line.
        static func startCounts(_ agent: AgentProcess) -> (fromIndex: Int, linesRead: Int)? {
            guard let line = agent.logText().split(separator: "\n").last(where: { $0.contains("from_index=") }) else {
                return nil
            }
            func number(_ key: String) -> Int? {
                line.range(of: key + "=").flatMap { Int(line[$0.upperBound...].prefix(while: \.isNumber)) }
            }
            guard let fromIndex = number("from_index"), let linesRead = number("lines_read") else { return nil }
            return (fromIndex, linesRead)
        }

        /// Cuts `count` complete lines off the end of the file, in place (same inode).
        static func cutLastLines(_ count: Int, of files: SessionFiles) throws {
            let lines = files.completeLines()
            let kept = lines.dropLast(count).reduce(0) { $0 + $1.count + 1 }
            #expect(truncate(files.opsPath, off_t(kept)) == 0)
        }
    }
}
