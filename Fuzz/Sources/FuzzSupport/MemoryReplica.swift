public import OpLog
public import OpLogReplication

/// A replication engine with its session files in memory, and the host's part done at once:
/// appends are written and fed back, shipments read from the file.
///
/// Like the unit tests' `TestReplica`, but checking what a host relies on: every location the
/// engine gives lies within the file.
public struct MemoryReplica: Sendable {
    public let name: NodeID
    public var engine: ReplicationEngine
    /// Each session's `ops.jsonl`.
    public var files: [SessionID: [UInt8]] = [:]
    public var now: Duration = .zero
    /// Reports the engine made, in order.
    public var reports: [ReplicationReport] = []
    /// Whether appends are completed as the agent completes one when nothing came in between
    /// (`.appendCompletedInPlace`: the engine numbers the lines itself) rather than by feeding
    /// the lines back, parsed again, as the file's new lines.
    public var completesInPlace = false

    /// A replica that knows its node id (so links start with reconciliation).
    public init(name: NodeID) {
        self.name = name
        var configuration = ReplicationEngine.Configuration()
        configuration.localNode = name
        self.engine = ReplicationEngine(configuration: configuration)
    }

    /// Feeds one event at the current time; keeps the reports, returns every action.
    public mutating func handle(_ event: ReplicationEvent) -> [ReplicationAction] {
        let actions = self.engine.handle(event, now: self.now)
        for case .report(let report) in actions { self.reports.append(report) }
        return actions
    }

    /// Appends `entries` to the file as a local writer would, and feeds them.
    public mutating func write(_ entries: [OpEntry], session: SessionID) -> [ReplicationAction] {
        let offsets = self.appendToFile(entries.map(\.line), session: session)
        let locals = zip(entries, offsets).map { LocalEntry(entry: $0, offset: $1) }
        return self.handle(.localEntries(session: session, entries: locals))
    }

    /// Carries out an append as a host does: writes the lines, reports the append complete, and
    /// feeds the lines back as the file's new lines (unless ``completesInPlace``).
    public mutating func complete(_ request: AppendRequest) -> [ReplicationAction] {
        let end = Int64(self.files[request.session, default: []].count)
        let offsets = self.appendToFile(request.lines, session: request.session)
        if self.completesInPlace {
            return self.handle(.appendCompletedInPlace(token: request.token, firstOffset: offsets.first ?? end))
        }
        var actions = self.handle(.appendCompleted(token: request.token))
        var locals: [LocalEntry] = []
        for (line, offset) in zip(request.lines, offsets) {
            guard let entry = try? OpEntry(line: line) else {
                failProperty("the engine asked to append a line that does not parse: \(hex(line))")
            }
            locals.append(LocalEntry(entry: entry, offset: offset))
        }
        actions += self.handle(.localEntries(session: request.session, entries: locals))
        return actions
    }

    /// The lines a shipment points at; every location must be a whole line of the file.
    public func read(_ shipment: Shipment) -> [[UInt8]] {
        let file = self.files[shipment.session, default: []]
        require(shipment.after <= shipment.through, "a shipment of (\(shipment.after), \(shipment.through)]")
        return shipment.locations.map { location in
            let start = Int(location.offset)
            let end = start + Int(location.length)
            require(
                location.offset >= 0 && location.length >= 0 && end < file.count && file[end] == UInt8(ascii: "\n")
                    && (start == 0 || file[start - 1] == UInt8(ascii: "\n")),
                "shipment location \(location) is not a line of the \(file.count)-byte file"
            )
            return Array(file[start..<end])
        }
    }

    /// The lines of a session's file.
    public func lines(_ session: SessionID) -> [[UInt8]] {
        // A plain loop: the generic `split` costs much of an input in a debug build.
        let file = self.files[session, default: []]
        var lines: [[UInt8]] = []
        var start = 0
        for index in file.indices where file[index] == UInt8(ascii: "\n") {
            if index > start { lines.append(Array(file[start..<index])) }
            start = index + 1
        }
        return lines
    }

    private mutating func appendToFile(_ lines: [[UInt8]], session: SessionID) -> [Int64] {
        var offsets: [Int64] = []
        for line in lines {
            offsets.append(Int64(self.files[session, default: []].count))
            self.files[session, default: []] += line + [UInt8(ascii: "\n")]
        }
        return offsets
    }
}
