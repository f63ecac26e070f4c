import OpLog
import Testing

@testable import OpLogReplication

/// Links whose progress is unknown reconcile first and ship only what the peer lacks.
@Suite("Replication engine: reconciliation")
struct ReplicationEngineReconciliationTests {
    let alice = Fixture.alice
    let bob = Fixture.bob

    /// Two replicas that know their own node ids, with a conversation between them carried out
    /// in memory: messages delivered in order, shipments read from the sender's file, appends
    /// written and fed back.
    struct Pair {
        var alice = TestReplica { $0.localNode = Fixture.alice }
        var bob = TestReplica { $0.localNode = Fixture.bob }
        /// Lines each side shipped, by sender.
        var shipped: [NodeID: Int] = [:]
        /// Reconcile messages each side sent, by sender.
        var reconcileMessages: [NodeID: Int] = [:]
        var reports: [NodeID: [ReplicationReport]] = [:]

        /// Connects both sides and carries out everything until neither has more to do.
        mutating func connect() {
            let fromAlice = self.alice.handle(.peerConnected(Fixture.bob))
            let fromBob = self.bob.handle(.peerConnected(Fixture.alice))
            self.run([(Fixture.alice, fromAlice), (Fixture.bob, fromBob)])
        }

        mutating func disconnect() {
            _ = self.alice.handle(.peerDisconnected(Fixture.bob))
            _ = self.bob.handle(.peerDisconnected(Fixture.alice))
        }

        mutating func run(_ initial: [(NodeID, [ReplicationAction])]) {
            var queue = initial[...]
            var steps = 0
            while let (node, actions) = queue.popFirst(), steps < 10_000 {
                steps += 1
                let other = node == Fixture.alice ? Fixture.bob : Fixture.alice
                for action in actions {
                    switch action {
                    case .send(let message, _):
                        if case .reconcile = message { self.reconcileMessages[node, default: 0] += 1 }
                        queue.append((other, self.deliver(.received(message, from: node), to: other)))
                    case .ship(let shipment):
                        let lines = self.replica(node).read(shipment)
                        self.shipped[node, default: 0] += lines.count
                        let batch = EntryBatch(
                            session: shipment.session.rawValue,
                            after: shipment.after,
                            through: shipment.through,
                            lines: lines
                        )
                        queue.append((other, self.deliver(.received(.entries(batch), from: node), to: other)))
                    case .append(let request):
                        queue.append((node, self.complete(request, at: node)))
                    case .report(let report):
                        self.reports[node, default: []].append(report)
                    default:
                        break
                    }
                }
            }
        }

        func replica(_ node: NodeID) -> TestReplica { node == Fixture.alice ? self.alice : self.bob }

        mutating func deliver(_ event: ReplicationEvent, to node: NodeID) -> [ReplicationAction] {
            node == Fixture.alice ? self.alice.handle(event) : self.bob.handle(event)
        }

        mutating func complete(_ request: AppendRequest, at node: NodeID) -> [ReplicationAction] {
            node == Fixture.alice ? self.alice.complete(request) : self.bob.complete(request)
        }
    }

    /// A chain of entries by `actor` with clocks `lamports`, each the child of the one before.
    static func chain(actor: String, lamports: ClosedRange<Int>, after parent: OpEntry? = nil) -> [OpEntry] {
        var entries: [OpEntry] = []
        for lamport in lamports {
            let parents = (entries.last ?? parent).map { [$0] } ?? []
            entries.append(Fixture.entry(actor: actor, lamport: lamport, parents: parents))
        }
        return entries
    }

    @Test func replicasThatNeverMetShipOnlyWhatTheOtherLacks() {
        let shared = Self.chain(actor: "studio", lamports: 1...300)
        let aliceOwn = Self.chain(actor: "studio", lamports: 301...320, after: shared.last)
        let bobOwn = Self.chain(actor: "laptop", lamports: 301...305, after: shared.last)
        var pair = Pair()
        _ = pair.alice.write(shared + aliceOwn)
        _ = pair.bob.write(shared + bobOwn)
        pair.connect()

        #expect(pair.shipped[self.alice] == 20)
        #expect(pair.shipped[self.bob] == 5)
        #expect(Set(pair.alice.lines()) == Set(pair.bob.lines()))
        #expect(pair.alice.lines().count == 325)
        #expect(pair.reports[self.alice]?.contains(.reconciled(peer: self.bob, session: Fixture.session, lacking: 20, of: 320)) == true)
        #expect(pair.reports[self.bob]?.contains(.reconciled(peer: self.alice, session: Fixture.session, lacking: 5, of: 305)) == true)
    }

    @Test func bothSidesStartingGoOnWithTheSmallerNodesExchangeOnly() {
        let shared = Self.chain(actor: "studio", lamports: 1...50)
        var pair = Pair()
        _ = pair.alice.write(shared)
        _ = pair.bob.write(shared)
        pair.connect()
        // alice < bob: alice's start (1) is answered "matched" (1); bob's start is ignored (1).
        #expect(pair.reconcileMessages[self.alice] == 1)
        #expect(pair.reconcileMessages[self.bob] == 2)
        #expect(pair.shipped[self.alice, default: 0] == 0 && pair.shipped[self.bob, default: 0] == 0)
    }

    @Test func aReconnectWithKnownProgressDoesNotReconcileAgain() {
        let shared = Self.chain(actor: "studio", lamports: 1...40)
        var pair = Pair()
        _ = pair.alice.write(shared)
        _ = pair.bob.write(Array(shared.prefix(30)))
        pair.connect()
        #expect(pair.shipped[self.alice] == 10)
        pair.disconnect()
        pair.reconcileMessages = [:]
        pair.shipped = [:]
        let later = Self.chain(actor: "studio", lamports: 41...45, after: shared.last)
        _ = pair.alice.write(later)
        pair.connect()
        #expect(pair.reconcileMessages[self.alice, default: 0] == 0)
        #expect(pair.reconcileMessages[self.bob, default: 0] == 0)
        #expect(pair.shipped[self.alice] == 5)
        #expect(pair.bob.lines().count == 45)
    }

    @Test func aLinkThatReconcilesShipsNothingUntilItIsDone() {
        var alice = TestReplica { $0.localNode = Fixture.alice }
        _ = alice.write(Self.chain(actor: "studio", lamports: 1...10))
        let actions = alice.handle(.peerConnected(self.bob))
        #expect(actions.shipments.isEmpty)
        guard case .reconcile(_, true, let ranges) = actions.sent(to: self.bob).first else {
            Issue.record("no reconcile start in \(actions)")
            return
        }
        #expect(ranges.count == 1 && ranges[0].upperBound == .end)
        // Entries written meanwhile wait too.
        #expect(alice.write(Self.chain(actor: "other", lamports: 1...2)).shipments.isEmpty)
    }

    @Test func aPeerThatGivesTheExchangeUpGetsEverything() {
        var alice = TestReplica { $0.localNode = Fixture.alice }
        _ = alice.write(Self.chain(actor: "studio", lamports: 1...10))
        _ = alice.handle(.peerConnected(self.bob))
        let actions = alice.handle(.received(.reconcile(session: Fixture.session.rawValue, isStart: false, ranges: []), from: self.bob))
        #expect(actions.shipments.flatMap(\.locations).count == 10)
    }

    @Test func aBrokenAnswerGivesTheExchangeUpOnBothSidesAndShipsEverything() {
        var alice = TestReplica { $0.localNode = Fixture.alice }
        _ = alice.write(Self.chain(actor: "studio", lamports: 1...10))
        _ = alice.handle(.peerConnected(self.bob))
        let bogus = ReplicationMessage.reconcile(
            session: Fixture.session.rawValue,
            isStart: false,
            ranges: [ReconciliationRange(upperBound: .end, payload: .lacking([0xFF]))]
        )
        let actions = alice.handle(.received(bogus, from: self.bob))
        let isReported = actions.contains { $0.isReport }
        #expect(isReported)
        #expect(actions.sent(to: self.bob).contains(.reconcile(session: Fixture.session.rawValue, isStart: false, ranges: [])))
        #expect(actions.shipments.flatMap(\.locations).count == 10)
    }

    @Test func aStalledExchangeIsGivenUpAfterTheRetransmitTimeout() {
        var alice = TestReplica {
            $0.localNode = Fixture.alice
            $0.retransmitTimeout = .seconds(5)
        }
        _ = alice.write(Self.chain(actor: "studio", lamports: 1...10))
        _ = alice.handle(.peerConnected(self.bob))
        alice.now = .seconds(4)
        #expect(alice.handle(.tick).shipments.isEmpty)
        alice.now = .seconds(5)
        let actions = alice.handle(.tick)
        #expect(actions.shipments.flatMap(\.locations).count == 10)
        #expect(actions.sent(to: self.bob).contains(.reconcile(session: Fixture.session.rawValue, isStart: false, ranges: [])))
    }

    @Test func withoutItsOwnNodeIDAReplicaShipsEverythingAsBefore() {
        var alice = TestReplica()
        _ = alice.write(Self.chain(actor: "studio", lamports: 1...10))
        let actions = alice.handle(.peerConnected(self.bob))
        #expect(actions.shipments.flatMap(\.locations).count == 10)
    }

    @Test func aLinkDroppedBeforeItsFindsAreShippedReconcilesAgainNextTime() {
        let shared = Self.chain(actor: "studio", lamports: 1...100)
        var pair = Pair()
        _ = pair.alice.write(shared)
        // bob has every other entry: the finds are scattered, so shipping starts near the front.
        _ = pair.bob.write(shared.enumerated().filter { $0.offset % 2 == 0 }.map(\.element))
        let fromAlice = pair.alice.handle(.peerConnected(self.bob))
        let fromBob = pair.bob.handle(.peerConnected(self.alice))
        // Deliver alice's start to bob and bob's answer back, then drop the link.
        var answers = pair.bob.handle(.received(fromAlice.sent(to: self.bob)[0], from: self.alice))
        _ = fromBob
        var shipments: [Shipment] = []
        var rounds = 0
        while let message = answers.sent(to: self.alice).first, rounds < 20 {
            rounds += 1
            let reply = pair.alice.handle(.received(message, from: self.bob))
            shipments += reply.shipments
            guard let next = reply.sent(to: self.bob).first else { break }
            answers = pair.bob.handle(.received(next, from: self.alice))
        }
        #expect(!shipments.isEmpty)
        pair.disconnect()
        let again = pair.alice.handle(.peerConnected(self.bob))
        #expect(again.shipments.isEmpty)
        #expect(again.sent(to: self.bob).contains { if case .reconcile(_, true, _) = $0 { true } else { false } })
    }
}
