/// Per actor, the highest `lamport_ts` a checkpoint covers.
///
/// Checkpoints written by this library carry a frontier so that replay can return an offline
/// actor's entries that arrive after the checkpoint with timestamps below its `lamport_ts`: an
/// entry is covered only if its actor appears here with a timestamp at or above the entry's.
/// Actor ids are matched by code point, never by Unicode equivalence.
public struct Frontier: Hashable, Sendable {
    private var timestamps: [ExactText: Int]

    /// A frontier from actor ids and their highest covered timestamps.
    public init(_ highestTimestamps: [String: Int] = [:]) {
        self.timestamps = [:]
        for (actor, timestamp) in highestTimestamps {
            self.include(actorID: actor, lamportTimestamp: timestamp)
        }
    }

    /// Highest covered timestamp per actor id.
    public var highestTimestamps: [(actorID: String, lamportTimestamp: Int)] {
        self.timestamps
            .map { (actorID: $0.key.text, lamportTimestamp: $0.value) }
            .sorted { ExactText.precedes($0.actorID, $1.actorID) }
    }

    /// Records that entries by `actorID` up to `lamportTimestamp` are covered.
    public mutating func include(actorID: String, lamportTimestamp: Int) {
        let key = ExactText(actorID)
        if let current = self.timestamps[key], current >= lamportTimestamp { return }
        self.timestamps[key] = lamportTimestamp
    }

    /// Whether an entry by `actorID` at `lamportTimestamp` is covered.
    public func covers(actorID: String, lamportTimestamp: Int) -> Bool {
        guard let highest = self.timestamps[ExactText(actorID)] else { return false }
        return lamportTimestamp <= highest
    }

    /// The frontier as a JSON object, actors in code point order (so it encodes the same way
    /// on every replica).
    public var jsonValue: JSONValue {
        .object(
            JSONObject(
                self.highestTimestamps.map { .init(key: $0.actorID, value: .number(JSONNumber($0.lamportTimestamp))) }
            )
        )
    }
}
