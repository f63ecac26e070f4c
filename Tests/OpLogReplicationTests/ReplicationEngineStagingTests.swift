import OpLog
import Testing

@testable import OpLogReplication

@Suite("Replication engine: the held-entry bound")
struct ReplicationEngineStagingTests {
    let session = Fixture.session
    let alice = Fixture.alice

    /// The line bytes the engine holds for `session`, counted from its tables.
    static func heldBytes(_ replica: TestReplica, _ session: SessionID = Fixture.session) -> Int {
        guard let state = replica.engine.sessions[session] else { return 0 }
        return state.held.values.reduce(0) { $0 + $1.entry.line.count }
            + state.deferred.reduce(0) { $0 + $1.entry.line.count }
    }

    /// An entry whose parent never arrives.
    static func orphan(_ index: Int) -> OpEntry {
        Fixture.entry(actor: "alice", lamport: 2 * index + 1, parents: [Fixture.entry(actor: "lost", lamport: 2 * index)])
    }

    /// Fails if the bound is removed: the orphans would then all wait (the hold is an hour), and
    /// the held bytes would grow past it.
    @Test func pastTheByteBoundTheOldestHeldEntriesAreWrittenAsOrphansAndTheRestWait() throws {
        let orphans = (1...8).map(Self.orphan)
        let longest = try #require(orphans.map(\.line.count).max())
        let bound = 3 * longest
        var bob = TestReplica(connectedTo: [self.alice]) {
            $0.holdTimeout = .seconds(3600)
            $0.maximumHeldBytes = bound
        }
        var written: [[UInt8]] = []
        var reports = 0
        for (index, orphan) in orphans.enumerated() {
            bob.now = .seconds(index)
            let actions = bob.handle(.received(batch(UInt64(index), UInt64(index + 1), [orphan]), from: self.alice))
            reports += actions.filter { if case .report(.orphansWritten) = $0 { true } else { false } }.count
            for request in actions.appends {
                written += request.lines
                _ = bob.complete(request)
            }
            #expect(bob.engine.heldEntryBytes <= bound, "after orphan \(index)")
            #expect(bob.engine.heldEntryBytes == Self.heldBytes(bob), "the count is exact")
        }
        #expect(written == orphans.prefix(5).map(\.line), "the five oldest, oldest first")
        #expect(bob.engine.heldEntryCount == 3, "the three newest still wait for their parents")
        #expect(bob.engine.statistics.orphansWritten == 5)
        #expect(reports == 5)
    }

    /// A released entry that waits on a held parent in the pool would stay blocked and free
    /// nothing: its held ancestors are released with it.
    @Test func aReleasedEntryTakesItsHeldAncestorsWithIt() throws {
        let lost = Fixture.entry(actor: "lost", lamport: 1)
        let parent = Fixture.entry(actor: "alice", lamport: 2, parents: [lost])
        let child = Fixture.entry(actor: "alice", lamport: 3, parents: [parent])
        let unrelated = Self.orphan(5)
        let longest = try #require([parent, child, unrelated].map(\.line.count).max())
        var bob = TestReplica(connectedTo: [self.alice]) {
            $0.holdTimeout = .seconds(3600)
            $0.maximumHeldBytes = 2 * longest
        }
        // The child comes first (the oldest), then its parent, whose own parent is lost.
        #expect(bob.handle(.received(batch(1, 2, [child]), from: self.alice)).appends.isEmpty)
        bob.now = .seconds(1)
        #expect(bob.handle(.received(batch(0, 1, [parent]), from: self.alice)).appends.isEmpty)
        bob.now = .seconds(2)
        let actions = bob.handle(.received(batch(2, 3, [unrelated]), from: self.alice))
        #expect(actions.appends.map(\.lines) == [[parent.line, child.line]], "parent first")
        #expect(bob.engine.heldEntryCount == 1)
        #expect(bob.engine.heldEntryBytes == unrelated.line.count)
    }

    @Test func theDefaultBoundIs64MiB() {
        #expect(ReplicationEngine.Configuration().maximumHeldBytes == 64 << 20)
    }
}
