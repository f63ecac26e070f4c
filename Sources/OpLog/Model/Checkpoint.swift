/// A checkpoint: the record, in `checkpoint.json`, that a Muse commit captured a session's ops.
///
/// Muse writes `session_id`, `snapshot_id`, `lamport_ts` (all ops up to it are in the snapshot),
/// `op_count` and `created_at` as `json.dumps(ckpt, indent=2) + "\n"`. Checkpoints made here add
/// a ``Frontier`` (older readers ignore it). ``bytes`` keeps the file exactly, so replicas can
/// converge on byte-identical checkpoint files.
public struct Checkpoint: Sendable, Hashable {
    /// The file's exact bytes.
    public let bytes: [UInt8]
    public let sessionID: String
    public let snapshotID: String
    public let lamportTimestamp: Int
    public let opCount: Int
    public let createdAt: String
    /// Per-actor coverage, when the writer recorded it (this library does, Muse does not).
    public let frontier: Frontier?

    /// Decodes a checkpoint file.
    ///
    /// - Throws: `OpLogError` with code `.invalidCheckpoint` when the bytes are not JSON or a
    ///   required field is missing or mistyped.
    public init(bytes: some Collection<UInt8>) throws(OpLogError) {
        let bytes = Array(bytes)
        func invalid(_ why: String) -> OpLogError {
            OpLogError(code: .invalidCheckpoint, message: "checkpoint \(why)")
        }
        let value: JSONValue
        do {
            value = try JSONValue(parsing: bytes)
        } catch {
            throw invalid("is not JSON: \(error.message)")
        }
        guard case .object(let object) = value else { throw invalid("is not a JSON object") }
        func string(_ key: String) throws(OpLogError) -> String {
            guard case .string(let text)? = object[key] else { throw invalid("field \(key) must be a string") }
            return text
        }
        func integer(_ key: String) throws(OpLogError) -> Int {
            guard case .number(let number)? = object[key], let integer = number.integerValue,
                0...LamportClock.maximumTimestamp ~= integer
            else {
                throw invalid("field \(key) must be an integer from 0 to 2^53 − 1")
            }
            return integer
        }
        self.bytes = bytes
        self.sessionID = try string("session_id")
        self.snapshotID = try string("snapshot_id")
        self.lamportTimestamp = try integer("lamport_ts")
        self.opCount = try integer("op_count")
        self.createdAt = object["created_at"] == nil ? "" : try string("created_at")
        switch object["frontier"] {
        case nil:
            self.frontier = nil
        case .object(let members)?:
            var frontier = Frontier()
            for member in members.members {
                guard case .number(let number) = member.value, let timestamp = number.integerValue,
                    0...LamportClock.maximumTimestamp ~= timestamp
                else {
                    throw invalid(
                        "frontier entry \(SessionID.quoted(member.key)) must be an integer from 0 to 2^53 − 1"
                    )
                }
                frontier.include(actorID: member.key, lamportTimestamp: timestamp)
            }
            self.frontier = frontier
        case _?:
            throw invalid("field frontier must be an object")
        }
    }

    /// Makes a checkpoint laid out as Muse lays it out, plus the frontier.
    ///
    /// - Precondition: `lamportTimestamp`, `opCount` and the frontier's timestamps are in
    ///   `0...LamportClock.maximumTimestamp` (as every entry's are).
    public static func make(
        sessionID: SessionID,
        snapshotID: String,
        lamportTimestamp: Int,
        opCount: Int,
        createdAt: String,
        frontier: Frontier
    ) -> Checkpoint {
        let object = JSONObject([
            "session_id": .string(sessionID.rawValue),
            "snapshot_id": .string(snapshotID),
            "lamport_ts": .number(JSONNumber(lamportTimestamp)),
            "op_count": .number(JSONNumber(opCount)),
            "created_at": .string(createdAt),
            "frontier": frontier.jsonValue,
        ])
        let bytes = PythonJSON.indented(.object(object)) + [UInt8(ascii: "\n")]
        guard let checkpoint = try? Checkpoint(bytes: bytes) else {
            preconditionFailure("a checkpoint made from typed fields always decodes")
        }
        return checkpoint
    }

    /// Whether an entry is captured by this checkpoint.
    ///
    /// With a frontier: its actor's covered timestamp is at or above the entry's. Without one
    /// (a Muse checkpoint): its timestamp is at or below ``lamportTimestamp``, as Muse defines it.
    public func covers(actorID: String, lamportTimestamp: Int) -> Bool {
        if let frontier = self.frontier {
            return frontier.covers(actorID: actorID, lamportTimestamp: lamportTimestamp)
        }
        return lamportTimestamp <= self.lamportTimestamp
    }

    /// The order in which replicas pick the winning checkpoint: greater (`lamport_ts`,
    /// `snapshot_id`) wins, and the file bytes break any remaining tie so the choice is total.
    public static func precedes(_ lhs: Checkpoint, _ rhs: Checkpoint) -> Bool {
        if lhs.lamportTimestamp != rhs.lamportTimestamp { return lhs.lamportTimestamp < rhs.lamportTimestamp }
        if ExactText(lhs.snapshotID) != ExactText(rhs.snapshotID) {
            return ExactText.precedes(lhs.snapshotID, rhs.snapshotID)
        }
        return lhs.bytes.lexicographicallyPrecedes(rhs.bytes)
    }
}
