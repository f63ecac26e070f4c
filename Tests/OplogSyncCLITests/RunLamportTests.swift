import Foundation
import Testing

extension RunProcessTests {
    /// DESIGN §3.6: "After remote entries arrive, the next local timestamp is greater than every
    /// timestamp in the file (max + 1)."
    @Suite("Lamport clocks across nodes", RunProcessTests.python)
    struct LamportTests {
        @Test("after A's high timestamps arrive on B, `append` on B takes max + 1")
        func lamportMergesRemoteEntries() async throws {
            let session = "clock"
            try await withAgentCluster { cluster in
                let a = try await cluster.start("A")
                let b = try await cluster.start("B", peers: [a])
                let local = try await appendOps(b, session: session, actor: "writer-b", count: 3)
                try await waitFor("B's entries on A") { holdsGap(a.replica(session), local) }

                // A Muse writer on A that has been busy: its clock is far ahead.
                var remote: [String] = []
                for timestamp in [50, 75, 74] {
                    remote.append(
                        try await a.commands(session).museAppend(actor: "muse-a", lamportTimestamp: timestamp, op: #"{"op":"insert"}"#)
                    )
                }
                try await waitFor("A's entries on B") { holdsGap(b.replica(session), remote) }

                let highest = try readEntries(b.files(session)).map(\.lamportTimestamp).max() ?? 0
                #expect(highest == 75)
                let next = try await b.commands(session).append(actor: "writer-b", op: #"{"op":"insert","after":"merge"}"#)
                let entry = try #require(try readEntries(b.files(session)).first { $0.opID == next })
                #expect(entry.lamportTimestamp == highest + 1, "B's next entry after remote ones at \(highest)")

                // And the other way: A's next entry is above B's new one once it arrives.
                try await waitFor("B's merged entry on A") { holdsGap(a.replica(session), [next]) }
                let onA = try await a.commands(session).append(actor: "writer-a", op: #"{"op":"insert"}"#)
                let entryOnA = try #require(try readEntries(a.files(session)).first { $0.opID == onA })
                #expect(entryOnA.lamportTimestamp == highest + 2)
                try await cluster.expectConverged(session, on: [a, b], expectedOpIDs: Set(local + remote + [next, onA]))
            }
        }
    }
}
