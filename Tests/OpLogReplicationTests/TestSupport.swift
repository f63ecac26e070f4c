import OpLog

@testable import OpLogReplication

/// Entries, checkpoints and ids for the engine's unit tests.
enum Fixture {
    static let session = try! SessionID(validating: "live-1")
    static let otherSession = try! SessionID(validating: "live-2")
    static let alice = NodeID("alice")
    static let bob = NodeID("bob")
    static let carol = NodeID("carol")
    static let createdAt = "2026-01-01T00:00:00+00:00"

    /// A content-addressed entry made by the library.
    static func entry(
        actor: String = "agent-1",
        lamport: Int,
        parents: [OpEntry] = [],
        kind: String = "insert",
        number: Int = 60
    ) -> OpEntry {
        Self.entry(actor: actor, lamport: lamport, parentIDs: parents.map(\.opID), kind: kind, number: number)
    }

    static func entry(actor: String = "agent-1", lamport: Int, parentIDs: [OpID], kind: String = "insert", number: Int = 60) -> OpEntry {
        try! OpEntry.make(
            actorID: actor,
            lamportTimestamp: lamport,
            parentOpIDs: parentIDs,
            domain: "music",
            domainOp: .object(JSONObject(["op": .string(kind), "pitch": .number(JSONNumber(number))])),
            createdAt: Self.createdAt
        )
    }

    /// An entry with an opaque (UUID-like) op id, as an older Muse writer writes it by hand.
    static func opaque(id: String, actor: String = "py", lamport: Int, parents: [String] = [], kind: String = "insert") -> OpEntry {
        try! OpEntry(line: Array(Self.museLine(id: id, actor: actor, lamport: lamport, parents: parents, kind: kind).utf8))
    }

    static func museLine(id: String, actor: String, lamport: Int, parents: [String], kind: String) -> String {
        let parentList = parents.map { "\"\($0)\"" }.joined(separator: ",")
        let head = #"{"op_id":"\#(id)","actor_id":"\#(actor)","lamport_ts":\#(lamport),"parent_op_ids":[\#(parentList)],"#
        return head + #""domain":"music","domain_op":{"op":"\#(kind)","text":"caf\u00e9"},"created_at":"\#(Self.createdAt)","intent_id":"","reservation_id":""}"#
    }

    /// `entry`'s line with its `sha256:` id replaced by another valid-looking one: it still
    /// parses, but the id no longer matches the content.
    static func tamperedLine(_ entry: OpEntry) -> [UInt8] {
        let text = String(decoding: entry.line, as: UTF8.self)
        let id = entry.opID.rawValue
        let lastDigit = id.last == "0" ? "1" : "0"
        let forged = String(id.dropLast()) + lastDigit
        return Array(text.replacingOccurrences(of: id, with: forged).utf8)
    }

    static func checkpoint(
        session: SessionID = Self.session,
        snapshot: String,
        lamport: Int,
        opCount: Int = 1,
        createdAt: String = Self.createdAt
    ) -> Checkpoint {
        Checkpoint.make(
            sessionID: session,
            snapshotID: snapshot,
            lamportTimestamp: lamport,
            opCount: opCount,
            createdAt: createdAt,
            frontier: Frontier(["agent-1": lamport])
        )
    }
}

extension String {
    /// Plain substring replacement, so the tests need not import Foundation.
    func replacingOccurrences(of target: String, with replacement: String) -> String {
        guard !target.isEmpty else { return self }
        var result = ""
        var rest = Substring(self)
        while let range = rest.firstRange(of: target) {
            result += rest[..<range.lowerBound]
            result += replacement
            rest = rest[range.upperBound...]
        }
        return result + rest
    }
}

/// One replica's engine and its in-memory `ops.jsonl`, for unit tests that want exact locations.
struct TestReplica {
    var engine: ReplicationEngine
    var bytes: [SessionID: [UInt8]] = [:]
    var now: Duration = .zero
    /// Bookkeeping actions the engine returned, in order.
    var records: [ReplicationAction] = []

    init(_ configure: (inout ReplicationEngine.Configuration) -> Void = { _ in }) {
        var configuration = ReplicationEngine.Configuration()
        configure(&configuration)
        self.engine = ReplicationEngine(configuration: configuration)
    }

    /// A replica with a link to each of `peers`, already connected.
    init(connectedTo peers: [NodeID], _ configure: (inout ReplicationEngine.Configuration) -> Void = { _ in }) {
        self.init(configure)
        for peer in peers { _ = self.handle(.peerConnected(peer, key: .testing)) }
    }

    /// Feeds one event at the current time.
    /// The bookkeeping actions (`recordProgress`, `recordOrigins`, `recordIndex`, `recordArrivals`,
    /// `recordRemoteCheckpoint`) are kept in ``records`` rather than returned, so tests compare
    /// what is sent and written.
    mutating func handle(_ event: ReplicationEvent) -> [ReplicationAction] {
        var actions: [ReplicationAction] = []
        for action in self.engine.handle(event, now: self.now) {
            switch action {
            case .recordProgress, .recordOrigins, .recordIndex, .recordArrivals, .recordRemoteCheckpoint:
                self.records.append(action)
            default: actions.append(action)
            }
        }
        return actions
    }

    /// Appends `entries` to the local file as a local writer would, and feeds them.
    mutating func write(_ entries: [OpEntry], session: SessionID = Fixture.session) -> [ReplicationAction] {
        let locals = self.appendToFile(entries.map(\.line), session: session).enumerated().map {
            LocalEntry(entry: entries[$0.offset], offset: $0.element.offset)
        }
        return self.handle(.localEntries(session: session, entries: locals))
    }

    /// Appends lines to the in-memory file and returns where each landed.
    mutating func appendToFile(_ lines: [[UInt8]], session: SessionID = Fixture.session) -> [EntryLocation] {
        var locations: [EntryLocation] = []
        for line in lines {
            let offset = Int64(self.bytes[session, default: []].count)
            self.bytes[session, default: []] += line + [UInt8(ascii: "\n")]
            locations.append(EntryLocation(offset: offset, length: Int32(line.count)))
        }
        return locations
    }

    /// Carries out an append the way the host does: writes the lines, reports the append
    /// complete, then feeds the lines back as the file's new lines (the watcher's part).
    mutating func complete(_ request: AppendRequest) -> [ReplicationAction] {
        let locations = self.appendToFile(request.lines, session: request.session)
        var actions = self.handle(.appendCompleted(token: request.token))
        let locals = zip(request.lines, locations).compactMap { line, location in
            (try? OpEntry(line: line)).map { LocalEntry(entry: $0, offset: location.offset) }
        }
        actions += self.handle(.localEntries(session: request.session, entries: locals))
        return actions
    }

    /// The origin journal a host keeps from `.recordOrigins`, to give back with
    /// `restoreOrigins` after a restart.
    var savedOrigins: [SessionID: [NodeID?]] {
        var saved: [SessionID: [NodeID?]] = [:]
        for case .recordOrigins(let session, let firstSequence, let origins) in self.records {
            var list = saved[session] ?? []
            let start = Int(firstSequence) - 1
            guard start <= list.count else { continue }
            list.removeSubrange(start...)
            list += origins
            saved[session] = list
        }
        return saved
    }

    /// The arrivals a host keeps from `.recordArrivals`, to give back with `restoreArrivals`.
    var savedArrivals: [SessionID: [Arrival]] {
        var saved: [SessionID: [Arrival]] = [:]
        for case .recordArrivals(let session, let arrivals) in self.records { saved[session, default: []] += arrivals }
        return saved
    }

    /// The last checkpoint of each session recorded by `.recordRemoteCheckpoint`, to give back
    /// with `restoreRemoteCheckpoint`.
    var savedRemoteCheckpoints: [SessionID: Checkpoint] {
        var saved: [SessionID: Checkpoint] = [:]
        for case .recordRemoteCheckpoint(let session, let checkpoint) in self.records { saved[session] = checkpoint }
        return saved
    }

    /// Restores what `other`'s host recorded, as a host does after a restart (before feeding
    /// the files).
    mutating func restore(from other: TestReplica) {
        self.bytes = other.bytes
        self.records += self.engine.restore(
            ReplicationEngine.Restore(
                origins: other.savedOrigins,
                arrivals: other.savedArrivals,
                remoteCheckpoints: other.savedRemoteCheckpoints
            )
        )
    }

    /// The lines of the local file.
    func lines(_ session: SessionID = Fixture.session) -> [[UInt8]] {
        self.bytes[session, default: []].split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).dropLast().map(Array.init)
    }

    /// The lines a shipment points at, read from the local file.
    func read(_ shipment: Shipment) -> [[UInt8]] {
        let file = self.bytes[shipment.session, default: []]
        return shipment.locations.map { Array(file[Int($0.offset)..<Int($0.offset) + Int($0.length)]) }
    }
}

extension ReplicationAction {
    /// The same action as a resend: a shipment sent again is not live.
    var resent: ReplicationAction {
        guard case .ship(var shipment) = self else { return self }
        shipment.isLive = false
        return .ship(shipment)
    }

    var appendRequest: AppendRequest? {
        guard case .append(let request) = self else { return nil }
        return request
    }

    var shipment: Shipment? {
        guard case .ship(let shipment) = self else { return nil }
        return shipment
    }

    var isReport: Bool {
        guard case .report = self else { return false }
        return true
    }
}

extension [ReplicationAction] {
    var appends: [AppendRequest] { self.compactMap(\.appendRequest) }
    var shipments: [Shipment] { self.compactMap(\.shipment) }

    /// The messages sent to `peer`, in order.
    func sent(to peer: NodeID) -> [ReplicationMessage] {
        self.compactMap {
            guard case .send(let message, let target) = $0, target == peer else { return nil }
            return message
        }
    }
}

func acknowledge(_ after: UInt64, _ through: UInt64, session: SessionID = Fixture.session) -> ReplicationMessage {
    .acknowledge(session: session.rawValue, after: after, through: through)
}

func batch(_ after: UInt64, _ through: UInt64, _ entries: [OpEntry], session: SessionID = Fixture.session) -> ReplicationMessage {
    .entries(EntryBatch(session: session.rawValue, after: after, through: through, lines: entries.map(\.line)))
}

/// Short names for lines and messages, so a failed expectation reads as names, not bytes.
struct Names {
    private var names: [[UInt8]: String] = [:]

    init(_ named: KeyValuePairs<String, OpEntry>) {
        for (name, entry) in named { self.names[entry.line] = name }
    }

    func callAsFunction(_ lines: [[UInt8]]) -> [String] {
        lines.map { self.names[$0] ?? "unknown line" }
    }
}

extension ReplicationMessage {
    /// `checkpoint live-1 snap (5, 2026-...)`, `ack live-1 (0, 1]`, ...
    var summary: String {
        switch self {
        case .entries(let batch):
            "entries \(batch.session) (\(batch.after), \(batch.through)] \(batch.lines.count) lines"
                + (batch.notices.isEmpty ? "" : " \(batch.notices.count) notices") + (batch.isLive ? " live" : "")
        case .acknowledge(let session, let after, let through): "ack \(session) (\(after), \(through)]"
        case .checkpoint(let session, let bytes):
            "checkpoint \(session) " + ((try? Checkpoint(bytes: bytes)).map { "\($0.snapshotID) (\($0.lamportTimestamp), \($0.createdAt))" } ?? "invalid")
        case .checkpointAcknowledge(let session, let lamportTimestamp, let snapshotID, let digest):
            "checkpoint ack \(session) \(snapshotID) (\(lamportTimestamp)) \(digest.prefix(4).map { String($0, radix: 16) }.joined())"
        case .retransmit(let session): "retransmit \(session)"
        case .reconcile(let session, let exchange, let step, let ranges):
            "reconcile \(session) \(exchange) step \(step) " + ranges.map { "\($0.payload)..\($0.upperBound)" }.joined(separator: " ")
        case .prune(let session): "prune \(session)"
        case .graft(let session, let sequences): "graft \(session) \(sequences)"
        }
    }
}

extension ReconciliationKey {
    /// The key both ends of a test's link are given.
    static let testing = ReconciliationKey(k0: 0x0123_4567_89AB_CDEF, k1: 0xFEDC_BA98_7654_3210)
}
