import OpLog
import OpLogReplication
import OpLogWire
import Synchronization

/// What a link has queued for its peer, bounded in bytes.
///
/// Messages the engine sends (acknowledgements, reconciliation, checkpoints) are queued as they
/// are. Entries are queued as the engine's ``Shipment``s, places in the file rather than lines:
/// the link's writer reads the lines when it takes them (``PeerConnection``), so what a slow peer
/// holds up is a few bytes per entry, not the entries. A shipment is dropped instead of queued
/// when the same range already waits, or when the queue holds ``budget`` bytes: the engine sends
/// whatever the peer does not acknowledge again after its retransmission timeout, so dropping
/// delays entries, never loses them. A link whose queue stops draining (the peer stopped
/// reading) is found by ``isStalled(timeout:now:)`` and closed by the core.
final class LinkOutbox: Sendable {
    /// One thing to send.
    enum Item: Sendable {
        case message(WireMessage)
        case shipment(Shipment)
    }

    private struct State: Sendable {
        var queuedBytes = 0
        var queuedItems = 0
        /// The ranges of the queued shipments, per session (after → through).
        var queuedRanges: Set<QueuedRange> = []
        /// The writer took an item and has not finished writing it.
        var isWriting = false
        /// When the writer last took or finished writing an item.
        var lastProgress = ContinuousClock.now
        var droppedShipments = 0
    }

    private struct QueuedRange: Hashable, Sendable {
        var session: SessionID
        var after: UInt64
        var through: UInt64
    }

    /// The most bytes the queue holds before shipments are dropped.
    let budget: Int
    /// The items, in order, for the link's writer.
    let items: AsyncStream<Item>
    private let continuation: AsyncStream<Item>.Continuation
    private let state = Mutex(State())

    /// - Parameter budget: the most bytes the queue may hold, counted as ``cost(of:)`` does.
    init(budget: Int) {
        self.budget = budget
        (self.items, self.continuation) = AsyncStream.makeStream(of: Item.self)
    }

    /// What an item is taken to cost while queued: its lines' places, or the message's size
    /// (for entries, their lines).
    static func cost(of item: Item) -> Int {
        switch item {
        case .shipment(let shipment):
            return 64 + shipment.locations.count * MemoryLayout<EntryLocation>.stride
        case .message(let message):
            return 64 + message.estimatedSize
        }
    }

    /// Queues a message; messages are never dropped (the engine's own sends are small and
    /// bounded by its protocol).
    func enqueue(_ message: WireMessage) {
        let item = Item.message(message)
        self.state.withLock { state in
            state.queuedBytes += Self.cost(of: item)
            state.queuedItems += 1
        }
        self.continuation.yield(item)
    }

    /// Queues a shipment unless the same range waits already or the queue is full; returns
    /// whether it was queued.
    @discardableResult
    func enqueue(_ shipment: Shipment) -> Bool {
        let item = Item.shipment(shipment)
        let cost = Self.cost(of: item)
        let range = QueuedRange(session: shipment.session, after: shipment.after, through: shipment.through)
        let isQueued = self.state.withLock { state in
            guard !state.queuedRanges.contains(range), state.queuedBytes + cost <= self.budget else {
                state.droppedShipments += 1
                return false
            }
            state.queuedRanges.insert(range)
            state.queuedBytes += cost
            state.queuedItems += 1
            return true
        }
        if isQueued { self.continuation.yield(item) }
        return isQueued
    }

    /// The writer took `item` off the queue (it is about to write it).
    func taken(_ item: Item) {
        self.state.withLock { state in
            state.queuedBytes -= Self.cost(of: item)
            state.queuedItems -= 1
            if case .shipment(let shipment) = item {
                state.queuedRanges.remove(
                    QueuedRange(session: shipment.session, after: shipment.after, through: shipment.through)
                )
            }
            state.isWriting = true
            state.lastProgress = .now
        }
    }

    /// The writer finished writing an item: the peer is reading.
    func written() {
        self.state.withLock { state in
            state.isWriting = false
            state.lastProgress = .now
        }
    }

    /// Bytes queued now, as ``cost(of:)`` counts them.
    var queuedBytes: Int { self.state.withLock { $0.queuedBytes } }

    /// Shipments dropped since the link came up.
    var droppedShipments: Int { self.state.withLock { $0.droppedShipments } }

    /// Whether something waits to be written and the writer has taken or written nothing for
    /// `timeout`: the peer stopped reading.
    func isStalled(timeout: Duration, now: ContinuousClock.Instant = .now) -> Bool {
        self.state.withLock { state in
            (state.queuedItems > 0 || state.isWriting) && now - state.lastProgress >= timeout
        }
    }

    /// Ends the queue: the writer stops after what it has taken.
    func finish() {
        self.continuation.finish()
    }
}
