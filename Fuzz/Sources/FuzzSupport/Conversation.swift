import OpLog
public import OpLogReplication

/// Two replicas linked to each other, with the messages between them in two queues, delivered
/// in order: the network of a test.
///
/// What each side sends to a third node is kept in ``sentElsewhere`` rather than delivered.
public struct Conversation: Sendable {
    public var left: MemoryReplica
    public var right: MemoryReplica
    /// Messages on their way to ``left`` and to ``right``.
    public var toLeft: [ReplicationMessage] = []
    public var toRight: [ReplicationMessage] = []
    /// Every message delivered, by sender, in order: real frames for seed corpora.
    public var delivered: [(from: NodeID, message: ReplicationMessage)] = []
    /// What a side sent to neither of the two, by sender.
    public var sentElsewhere: [(from: NodeID, to: NodeID, message: ReplicationMessage)] = []
    /// Whether ``delivered`` is kept (off in the fuzz loop, where it would only cost).
    public var isRecording = false

    public init(_ left: MemoryReplica, _ right: MemoryReplica) {
        self.left = left
        self.right = right
    }

    /// Links the two sides with `key` and queues what each sends.
    public mutating func connect(key: ReconciliationKey, pairKey: ReconciliationKey? = nil) {
        let fromLeft = self.left.handle(.peerConnected(self.right.name, key: key, pairKey: pairKey))
        let fromRight = self.right.handle(.peerConnected(self.left.name, key: key, pairKey: pairKey))
        self.route(fromLeft, fromLeftSide: true)
        self.route(fromRight, fromLeftSide: false)
    }

    /// Breaks the link on both sides and drops what was on its way.
    public mutating func disconnect() {
        _ = self.left.handle(.peerDisconnected(self.right.name))
        _ = self.right.handle(.peerDisconnected(self.left.name))
        self.toLeft = []
        self.toRight = []
    }

    /// Delivers one message to the left side (the first queued, or `message` instead) as sent by
    /// `sender` (default: the right side).
    public mutating func deliverToLeft(_ message: ReplicationMessage, from sender: NodeID? = nil) {
        let from = sender ?? self.right.name
        if self.isRecording { self.delivered.append((from, message)) }
        self.route(self.left.handle(.received(message, from: from)), fromLeftSide: true)
    }

    /// Delivers one message to the right side, as sent by the left.
    public mutating func deliverToRight(_ message: ReplicationMessage) {
        if self.isRecording { self.delivered.append((self.left.name, message)) }
        self.route(self.right.handle(.received(message, from: self.left.name)), fromLeftSide: false)
    }

    /// Moves time on by `duration` on both sides and ticks each.
    public mutating func advance(by duration: Duration) {
        self.left.now += duration
        self.right.now += duration
        self.route(self.left.handle(.tick), fromLeftSide: true)
        self.route(self.right.handle(.tick), fromLeftSide: false)
    }

    /// Delivers queued messages, alternating sides, until none is left or `maximumSteps` were
    /// delivered; returns whether the queues ran dry.
    @discardableResult
    public mutating func run(maximumSteps: Int = 100_000) -> Bool {
        var steps = 0
        while steps < maximumSteps, !(self.toLeft.isEmpty && self.toRight.isEmpty) {
            if !self.toRight.isEmpty {
                self.deliverToRight(self.toRight.removeFirst())
                steps += 1
            }
            if !self.toLeft.isEmpty {
                self.deliverToLeft(self.toLeft.removeFirst())
                steps += 1
            }
        }
        return self.toLeft.isEmpty && self.toRight.isEmpty
    }

    /// Carries out one side's actions: sends queue, shipments are read and queued as entries,
    /// appends are completed at once (and their actions carried out in turn).
    public mutating func route(_ actions: [ReplicationAction], fromLeftSide: Bool) {
        var pending = actions[...]
        while let action = pending.popFirst() {
            let sender = fromLeftSide ? self.left.name : self.right.name
            let receiver = fromLeftSide ? self.right.name : self.left.name
            switch action {
            case .send(let message, let target):
                if target == receiver {
                    self.enqueue(message, fromLeftSide: fromLeftSide)
                } else {
                    self.sentElsewhere.append((sender, target, message))
                }
            case .ship(let shipment):
                let lines = fromLeftSide ? self.left.read(shipment) : self.right.read(shipment)
                let batch = EntryBatch(shipment, lines: lines)
                if shipment.peer == receiver {
                    self.enqueue(.entries(batch), fromLeftSide: fromLeftSide)
                } else {
                    self.sentElsewhere.append((sender, shipment.peer, .entries(batch)))
                }
            case .append(let request):
                let more = fromLeftSide ? self.left.complete(request) : self.right.complete(request)
                pending = (Array(pending) + more)[...]
            case .writeCheckpoint, .recordRemoteCheckpoint, .recordArrivals, .recordProgress, .recordOrigins,
                .recordIndex, .resetSession, .report:
                break
            }
        }
    }

    private mutating func enqueue(_ message: ReplicationMessage, fromLeftSide: Bool) {
        if fromLeftSide { self.toRight.append(message) } else { self.toLeft.append(message) }
    }
}
