import Foundation
import Testing

extension RunProcessTests {
    /// What the daemon makes of its own writers' lines: unfinished tails (DESIGN §2) and lines
    /// that are not entries (DESIGN §3.8).
    @Suite("Unfinished and malformed local lines")
    struct LocalInputTests {
        @Test("a line without its newline is not shipped, nor appended after, until its `\\n` arrives")
        func tornAppend() async throws {
            let session = "torn"
            try await withAgentCluster { cluster in
                let a = try await cluster.start("A")
                let b = try await cluster.start("B", peers: [a])
                let seeded = try await appendOps(a, session: session, actor: "writer-a", count: 3)
                try await cluster.expectConverged(session, on: [a, b], expectedOpIDs: Set(seeded))

                let line = museLine(actor: "muse", lamportTimestamp: 10, op: #"{"op":"tempo","bpm":120}"#)
                let tornID = try #require(opID(of: Array(line.utf8)))
                try a.files(session).appendRaw(line)
                let unfinished = a.files(session).opsBytes()
                // Meanwhile B's writer appends: A's daemon must not glue it to the unfinished line.
                let fromB = try await b.commands(session).append(actor: "writer-b", op: #"{"op":"insert","seq":99}"#)
                // A has B's entry in hand and holds it back: its debug log says so.
                try await waitFor("A to wait for the unfinished line") {
                    a.logText().contains("waiting for a writer to finish its line") ? nil : "not logged yet"
                }
                #expect(occurrences(of: tornID, in: b.replica(session)) == 0, "B received a line without its newline")
                #expect(a.files(session).opsBytes() == unfinished, "A's daemon wrote after an unfinished line")

                try a.files(session).appendRaw("\n")
                try await waitFor("the finished line on B") { holdsGap(b.replica(session), [tornID]) }
                try await cluster.expectConverged(session, on: [a, b], expectedOpIDs: Set(seeded + [tornID, fromB]))
                #expect(occurrences(of: tornID, in: b.replica(session)) == 1)
                #expect(a.files(session).completeLines().contains(Array(line.utf8)), "the finished line is intact on A")
            }
        }

        @Test("a tail left unfinished past --stale-tail-seconds is closed, and the next entry lands on its own line")
        func abandonedTail() async throws {
            let session = "abandoned"
            try await withAgentCluster { cluster in
                let a = try await cluster.start("A", extraArguments: ["--stale-tail-seconds", "1"])
                let b = try await cluster.start("B", peers: [a])
                let seeded = try await appendOps(a, session: session, actor: "writer-a", count: 2)
                try await cluster.expectConverged(session, on: [a, b], expectedOpIDs: Set(seeded))

                // A writer that crashed half way through a line.
                let line = museLine(actor: "crashed", lamportTimestamp: 7)
                let half = String(line.prefix(line.utf8.count / 2))
                try a.files(session).appendRaw(half)
                let fromB = try await b.commands(session).append(actor: "writer-b", op: #"{"op":"insert","seq":1}"#)
                try await waitFor("B's entry on A, after the abandoned tail") { holdsGap(a.replica(session), [fromB]) }

                let lines = a.files(session).completeLines().map(\.text)
                #expect(a.files(session).opsBytes().last == UInt8(ascii: "\n"))
                let halfIndex = try #require(lines.firstIndex(of: half), "the abandoned tail is closed as a line of its own: \(lines)")
                let entryIndex = lines.firstIndex { opID(of: Array($0.utf8)) == fromB }
                #expect(entryIndex.map { $0 > halfIndex } == true, "B's entry comes after the closed tail")
                // The closed tail is not an entry: nothing of it reaches B. A marker written after
                // it on A travels the same stream, so once the marker is on B, the tail would be.
                let marker = try await a.commands(session).append(actor: "writer-a", op: #"{"op":"insert","seq":2}"#)
                try await waitFor("A's marker on B") { holdsGap(b.replica(session), [marker]) }
                let (_, problems) = fileProblems(b.replica(session))
                cluster.expectNoProblems(problems, "B's file")
                #expect(!b.files(session).completeLines().map(\.text).contains(half))
            }
        }

        @Test("a line that is not an entry, or whose sha256 id is wrong, is not shipped; the entries after it are")
        func malformedLines() async throws {
            let session = "malformed"
            try await withAgentCluster { cluster in
                let a = try await cluster.start("A")
                let b = try await cluster.start("B", peers: [a])
                let garbage = #"{"op_id": not json at all"#
                let forged = museLine(
                    opID: "sha256:" + String(repeating: "0", count: 64),
                    actor: "forger",
                    lamportTimestamp: 3
                )
                let valid = museLine(actor: "muse", lamportTimestamp: 4)
                let validID = try #require(opID(of: Array(valid.utf8)))
                try a.files(session).appendRaw(garbage + "\n")
                try a.files(session).appendRaw(forged + "\n")
                try a.files(session).appendRaw(valid + "\n")

                try await waitFor("the valid entry on B") { holdsGap(b.replica(session), [validID]) }
                let later = try await appendOps(a, session: session, actor: "writer-a", count: 2)
                try await waitFor("the later entries on B") { holdsGap(b.replica(session), later) }
                let onB = b.files(session).completeLines().map(\.text)
                #expect(!onB.contains(garbage), "B received the garbage line")
                #expect(!onB.contains(forged), "B received an entry whose sha256 id does not match its content")
                let expected = Set([validID] + later)
                cluster.expectNoProblems(replicaProblems([b.replica(session)], expectedOpIDs: expected), "B's file")
                cluster.expectNoProblems(try await verifyProblems([b.replica(session)]), "verify on B")

                for (what, word) in [("the line that is not JSON", "not shipped"), ("the forged sha256 id", "rejected")] {
                    try await waitFor("A's log to report \(what)", timeout: .seconds(10)) {
                        let mentions = a.logText().split(separator: "\n").filter { $0.contains("malformed") && $0.contains(word) }
                        return mentions.isEmpty ? "no log line with `\(word)` for session malformed" : nil
                    }
                }
            }
        }
    }
}
