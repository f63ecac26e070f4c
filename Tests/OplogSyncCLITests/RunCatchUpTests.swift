import Foundation
import Testing

extension RunProcessTests {
    /// A replica that joins late, far behind: the node it joins logs how far it has come.
    @Suite("Catching up")
    struct CatchUpTests {
        @Test("B joins A's 2,500 entries late: A logs B's catch-up (done, total) and then that B caught up")
        func catchUpIsLogged() async throws {
            let session = "backlog"
            try await withAgentCluster { cluster in
                let a = try await cluster.start("A")
                let backlog = try await appendOps(a, session: session, actor: "writer-a", count: 2_500)
                let b = try await cluster.start("B", peers: [a])
                try await cluster.expectConverged(session, on: [a, b], expectedOpIDs: Set(backlog))
                try await waitFor("A's log to say B caught up") {
                    a.logText().contains("peer caught up") ? nil : "not yet"
                }
                // The message ends each log line, after its metadata. (Computed outside #expect:
                // its expansion of closures over `$0` misreported these.)
                let lines = a.logText().components(separatedBy: "\n")
                let catchingUp = lines.filter { line in line.hasSuffix("] peer catching up") }
                let caughtUp = lines.filter { line in line.hasSuffix("] peer caught up") }
                let totalsRight = catchingUp.allSatisfy { line in line.contains(" total=2500 ") }
                let entriesRight = caughtUp.allSatisfy { line in line.contains(" entries=2500 ") }
                #expect(!catchingUp.isEmpty, "A logged B's backlog when B connected")
                #expect(totalsRight, "\(catchingUp)")
                #expect(caughtUp.count == 1, "\(caughtUp)")
                #expect(entriesRight, "\(caughtUp)")
                #expect(!b.logText().contains("peer catching up"), "B has nothing A lacks")
            }
        }
    }
}
