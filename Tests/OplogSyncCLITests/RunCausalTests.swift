import Foundation
import Testing

extension RunProcessTests {
    /// DESIGN §3.4: "every entry comes after each of its parents that exists in the session. An
    /// entry whose parent never arrives is held for a bounded time, then written anyway with a
    /// warning: held, never dropped."
    @Suite("Causal order of received entries")
    struct CausalTests {
        @Test("children that reach B before their parents are written after them")
        func childBeforeParent() async throws {
            let session = "causal"
            try await withAgentCluster { cluster in
                let a = try await cluster.start("A")
                let b = try await cluster.start("B", peers: [a])
                // An odd writer on A puts children before their parents: in one write, and in
                // two writes half a second apart.
                let parent = museLine(actor: "odd", lamportTimestamp: 1)
                let parentID = try #require(opID(of: Array(parent.utf8)))
                let child = museLine(actor: "odd", lamportTimestamp: 2, parents: [parentID])
                try a.files(session).appendRaw(child + "\n" + parent + "\n")

                let laterParent = museLine(actor: "odd", lamportTimestamp: 3)
                let laterParentID = try #require(opID(of: Array(laterParent.utf8)))
                let laterChild = museLine(actor: "odd", lamportTimestamp: 4, parents: [laterParentID, parentID])
                let laterChildID = try #require(opID(of: Array(laterChild.utf8)))
                try a.files(session).appendRaw(laterChild + "\n")
                // A marker after the child on the same stream: once it is on B, B has had the
                // child in hand, and would have written it by then.
                let marker = museLine(actor: "marker", lamportTimestamp: 1)
                let markerID = try #require(opID(of: Array(marker.utf8)))
                try a.files(session).appendRaw(marker + "\n")
                try await waitFor("the marker on B") { holdsGap(b.replica(session), [markerID]) }
                #expect(occurrences(of: laterChildID, in: b.replica(session)) == 0, "B wrote a child whose parent it does not have")
                try a.files(session).appendRaw(laterParent + "\n")

                let ids = try [child, parent, laterChild, marker, laterParent].map { try #require(opID(of: Array($0.utf8))) }
                try await waitFor("all five on B") { holdsGap(b.replica(session), ids) }
                cluster.expectNoProblems(replicaProblems([b.replica(session)], expectedOpIDs: Set(ids)), "B's file")
                cluster.expectNoProblems(try await verifyProblems([b.replica(session)]), "verify on B")
                let linesOnB = Set(b.files(session).completeLines().map(\.text))
                #expect(linesOnB == Set([child, parent, laterChild, marker, laterParent]), "verbatim")
            }
        }

        @Test("an entry whose parent never arrives is written after --hold-seconds, with a warning")
        func orphanIsHeldThenWritten() async throws {
            let session = "orphan"
            try await withAgentCluster { cluster in
                let a = try await cluster.start("A")
                let b = try await cluster.start("B", peers: [a], extraArguments: ["--hold-seconds", "1"])
                let orphan = museLine(actor: "odd", lamportTimestamp: 5, parents: [UUID().uuidString.lowercased()])
                let orphanID = try #require(opID(of: Array(orphan.utf8)))
                try a.files(session).appendRaw(orphan + "\n")
                try await waitFor("the orphan on B") { holdsGap(b.replica(session), [orphanID]) }
                #expect(b.files(session).completeLines().map(\.text) == [orphan])
                #expect(
                    b.logText().split(separator: "\n").contains { $0.contains("orphan") && $0.contains("without their parents") },
                    "B warns that it wrote an entry without its parent\n\(b.logTail())"
                )
            }
        }
    }
}
