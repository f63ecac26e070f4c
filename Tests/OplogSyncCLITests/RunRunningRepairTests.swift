import Foundation
import Testing

extension RunProcessTests {
    /// Issue #12 item 6: a node repairs itself while it runs. A log cut or replaced under the
    /// running daemon is renumbered and reconciled with its peers at once (no restart), and one
    /// op id on two different entries is found when they meet.
    @Suite("Self-repair while running")
    struct RunningRepairTests {
        /// How B's log loses its second half while both nodes run.
        enum Cut: String, CaseIterable, CustomTestStringConvertible {
            /// A new file holding the first half, renamed over ops.jsonl (a new inode).
            case replaced
            /// ops.jsonl truncated in place to its first half (same inode).
            case truncated

            var testDescription: String { self.rawValue }
        }

        @Test(
            "B's log cut to its first half while A and B run: B gets the rest back without a restart, A receives nothing twice",
            arguments: Cut.allCases
        )
        func cutWhileRunning(_ cut: Cut) async throws {
            let session = "cut-\(cut.rawValue)"
            try await withAgentCluster { cluster in
                let a = try await cluster.start("A")
                let b = try await cluster.start("B", peers: [a])
                // Entries of both origins: B must get back its own too, from A.
                let fromA = try await appendOps(a, session: session, actor: "writer-a", count: 60)
                try await cluster.expectConverged(session, on: [a, b], expectedOpIDs: Set(fromA))
                let fromB = try await appendOps(b, session: session, actor: "writer-b", count: 40)
                let all = Set(fromA + fromB)
                try await cluster.expectConverged(session, on: [a, b], expectedOpIDs: all)

                let files = b.files(session)
                let lines = files.completeLines()
                let half = lines.prefix(lines.count / 2)
                switch cut {
                case .replaced:
                    let copy = files.sessionFolder + "/ops.jsonl.new"
                    try Data(half.flatMap { $0 + [UInt8(ascii: "\n")] }).write(to: URL(fileURLWithPath: copy))
                    #expect(rename(copy, files.opsPath) == 0)
                case .truncated:
                    let kept = half.reduce(0) { $0 + $1.count + 1 }
                    #expect(truncate(files.opsPath, off_t(kept)) == 0)
                }
                try await cluster.expectConverged(session, on: [a, b], expectedOpIDs: all)
                #expect(
                    b.logText().contains("ops.jsonl was replaced or truncated; renumbering it"),
                    "B saw the cut\n\(b.logTail())"
                )
                #expect(!b.logText().contains("from_index=") || Self.starts(b) == 1, "B was not restarted")

                // The new numbering goes on both ways.
                let afterOnB = try await appendOps(b, session: session, actor: "writer-b", count: 5)
                let afterOnA = try await appendOps(a, session: session, actor: "writer-a", count: 5)
                try await cluster.expectConverged(
                    session,
                    on: [a, b],
                    expectedOpIDs: all.union(afterOnB).union(afterOnA)
                )
                #expect(ReplicaContents(a.replica(session)).opIDs.count == all.count + 10, "A: each entry once")
            }
        }

        /// Two entries under one UUID (a writer bug), one in each replica, that meet when the
        /// link comes up: A and B never met, so nothing but set reconciliation decides what
        /// crosses. Reconciliation compares keyed hashes of each entry's op id and line, so the
        /// two are told apart (with op-id hashes only, both replicas took them for one entry
        /// and neither was ever shipped): each node warns with the op id, both files keep their
        /// own line, and `verify --against` lists the id.
        @Test("A and B each hold a different entry under one UUID before they first meet: both warn with the op id when the link comes up, both files are left as they are")
        func oneOpaqueIDOnTwoEntriesMeetsAtLinkUp() async throws {
            let session = "meet"
            let id = "7c1d2e3f-4a5b-4c6d-8e7f-90a1b2c3d4e5"
            try await withAgentCluster { cluster in
                let a = try cluster.add("A")
                let b = try cluster.add("B")
                // A history both hold, byte for byte, then each its own line under `id`.
                let shared = (1...20).map { museLine(actor: "studio", lamportTimestamp: $0) }
                let lineA = museLine(opID: id, actor: "muse-a", lamportTimestamp: 21)
                let lineB = museLine(opID: id, actor: "muse-b", lamportTimestamp: 21, op: #"{"op":"delete"}"#)
                try a.files(session).appendRaw((shared + [lineA]).joined(separator: "\n") + "\n")
                try b.files(session).appendRaw((shared + [lineB]).joined(separator: "\n") + "\n")
                try await a.start()
                b.setPeers([try a.peerArgument()])
                try await b.start()

                let warning = "a peer's entry has the op_id of a different local entry; both are kept as they are"
                for node in [a, b] {
                    try await waitFor("\(node.name) to warn about \(id)") {
                        node.logText().split(separator: "\n").contains { $0.contains(warning) && $0.contains(id) }
                            ? nil : node.logTail()
                    }
                }
                // The link goes on: a later entry of B reaches A.
                let after = try await appendOps(b, session: session, actor: "writer-b", count: 2)
                try await waitFor("A to hold B's later entries") { holdsGap(a.replica(session), after) }
                #expect(a.files(session).completeLines().contains(Array(lineA.utf8)), "A keeps its line")
                #expect(!a.files(session).completeLines().contains(Array(lineB.utf8)), "A did not take B's")
                #expect(b.files(session).completeLines().contains(Array(lineB.utf8)), "B keeps its line")
                #expect(!b.files(session).completeLines().contains(Array(lineA.utf8)), "B did not take A's")
                for node in [a, b] {
                    let warnings = node.logText().split(separator: "\n").filter { $0.contains(warning) }
                    #expect(warnings.count == 1, "\(node.name) warns once")
                }

                let output = try await Programs.oplogSync(["verify", "--root", a.root, "--against", b.root])
                #expect(output.exitCode == 1, "\(output)")
                #expect(output.stdout.contains(id), "\(output)")
            }
        }

        /// B holds A's line, then B's own writer reuses the id: the repeat is found in B's own
        /// file.
        @Test("B's writer reuses a UUID op_id B already holds from A: B warns once with the op id, the later line is not replicated, verify --against lists it")
        func repeatedOpaqueID() async throws {
            let session = "conflict"
            let id = "0b7a3c1e-5d2f-4e8a-9c6b-1f2e3d4c5b6a"
            try await withAgentCluster { cluster in
                let a = try await cluster.start("A")
                let b = try await cluster.start("B", peers: [a])
                let lineA = museLine(opID: id, actor: "muse-a", lamportTimestamp: 1)
                try a.files(session).appendRaw(lineA + "\n")
                try await waitFor("B to hold A's line") {
                    b.files(session).completeLines().contains(Array(lineA.utf8)) ? nil : b.logTail()
                }
                let lineB = museLine(opID: id, actor: "muse-b", lamportTimestamp: 2, op: #"{"op":"delete"}"#)
                try b.files(session).appendRaw(lineB + "\n")
                // A later entry shows that B read past the repeated line.
                let after = try await appendOps(b, session: session, actor: "writer-b", count: 2)
                try await waitFor("A to hold B's later entries") { holdsGap(a.replica(session), after) }

                let warning = "op_id repeated in ops.jsonl; the later line is not replicated"
                try await waitFor("B to warn about \(id)") {
                    b.logText().split(separator: "\n").contains { $0.contains(warning) && $0.contains(id) }
                        ? nil : b.logTail()
                }
                #expect(b.logText().split(separator: "\n").filter { $0.contains(warning) }.count == 1, "once")
                #expect(!a.files(session).completeLines().contains(Array(lineB.utf8)), "A never gets the later line")
                #expect(b.files(session).completeLines().contains(Array(lineB.utf8)), "B's file is left as it is")

                let output = try await Programs.oplogSync(["verify", "--root", b.root, "--against", a.root])
                #expect(output.exitCode == 1, "\(output)")
                #expect(output.stdout.contains(id), "\(output)")
            }
        }

        /// How many times the agent logged its start.
        static func starts(_ agent: AgentProcess) -> Int {
            agent.logText().split(separator: "\n").filter { $0.contains("from_index=") }.count
        }
    }
}
