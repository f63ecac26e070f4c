/// Per actor, the highest `lamport_ts` a checkpoint covers.
///
/// Checkpoints written by this library carry a frontier so that replay can return an offline
/// actor's entries that arrive after the checkpoint with timestamps below its `lamport_ts`: an
/// entry is covered only if its actor appears here with a timestamp at or above the entry's.
public struct Frontier: Hashable, Sendable {
    /// Highest covered timestamp per actor id.
    public private(set) var highestTimestamps: [String: Int]

    public init(_ highestTimestamps: [String: Int] = [:]) {
        self.highestTimestamps = highestTimestamps
    }

    /// Records that `entry` is covered.
    public mutating func include(actorID: String, lamportTimestamp: Int) {
        if let current = self.highestTimestamps[actorID], current >= lamportTimestamp { return }
        self.highestTimestamps[actorID] = lamportTimestamp
    }

    /// Whether an entry by `actorID` at `lamportTimestamp` is covered.
    public func covers(actorID: String, lamportTimestamp: Int) -> Bool {
        guard let highest = self.highestTimestamps[actorID] else { return false }
        return lamportTimestamp <= highest
    }

    /// The frontier as a JSON object, actors in code point order (so it encodes the same way
    /// on every replica).
    public var jsonValue: JSONValue {
        let members = self.highestTimestamps
            .sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
            .map { JSONObject.Member(key: $0.key, value: .number(JSONNumber($0.value))) }
        return .object(JSONObject(members))
    }
}
