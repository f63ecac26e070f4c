import OpLog
import OpLogWire
import Testing

@testable import OpLogAgent
@testable import OpLogReplication

/// A link's queue: bounded in bytes, one copy of a range, and a stall a writer can be caught in.
@Suite struct LinkOutboxTests {
    private let session = try! SessionID(validating: "live-1")

    private func shipment(after: UInt64, count: Int) -> Shipment {
        Shipment(
            peer: NodeID("studio"),
            session: self.session,
            after: after,
            through: after + UInt64(count),
            locations: (0..<count).map { EntryLocation(offset: Int64($0 * 100), length: 99) }
        )
    }

    @Test func shipmentsPastTheBudgetAreDroppedAndTheQueueStaysWithinIt() {
        let outbox = LinkOutbox(budget: 64 << 10)
        var queued = 0
        for round in 0..<100 {
            if outbox.enqueue(self.shipment(after: UInt64(round * 1024), count: 1024)) { queued += 1 }
            #expect(outbox.queuedBytes <= outbox.budget)
        }
        // 1,024 places of 16 bytes each: three fit in 64 KiB.
        #expect(queued == 3)
        #expect(outbox.droppedShipments == 97)
    }

    @Test func theSameRangeIsQueuedOnceUntilTheWriterTakesIt() async {
        let outbox = LinkOutbox(budget: 1 << 20)
        #expect(outbox.enqueue(self.shipment(after: 0, count: 10)))
        // A retransmission of the same range while the first still waits.
        #expect(!outbox.enqueue(self.shipment(after: 0, count: 10)))
        var items = outbox.items.makeAsyncIterator()
        guard let item = await items.next() else {
            Issue.record("nothing queued")
            return
        }
        outbox.taken(item)
        outbox.written()
        #expect(outbox.queuedBytes == 0)
        #expect(outbox.enqueue(self.shipment(after: 0, count: 10)))
    }

    @Test func aQueueTheWriterStopsTakingFromIsStalled() {
        let outbox = LinkOutbox(budget: 1 << 20)
        let start = ContinuousClock.now
        #expect(!outbox.isStalled(timeout: .seconds(20), now: start + .seconds(60)), "an empty queue is not stalled")
        outbox.enqueue(.ping)
        #expect(!outbox.isStalled(timeout: .seconds(20), now: start + .seconds(1)))
        #expect(outbox.isStalled(timeout: .seconds(20), now: start + .seconds(21)))
    }

    @Test func aWriteThatNeverFinishesIsStalledToo() async {
        let outbox = LinkOutbox(budget: 1 << 20)
        outbox.enqueue(.ping)
        var items = outbox.items.makeAsyncIterator()
        guard let item = await items.next() else {
            Issue.record("nothing queued")
            return
        }
        outbox.taken(item)
        let taken = ContinuousClock.now
        #expect(outbox.isStalled(timeout: .seconds(20), now: taken + .seconds(21)))
        outbox.written()
        #expect(!outbox.isStalled(timeout: .seconds(20), now: ContinuousClock.now + .seconds(21)))
    }
}
