public import OpLog

/// Entries and checkpoints the targets and their seeds are made of, built by the library as a
/// writer would make them.
public enum Fixtures {
    /// The session the replicas share.
    public static let session = Self.sessionID("live-1")
    /// A session neither replica holds.
    public static let otherSession = Self.sessionID("live-2")
    public static let createdAt = "2026-01-01T00:00:00+00:00"

    /// A valid session id from a literal.
    public static func sessionID(_ text: String) -> SessionID {
        guard let id = try? SessionID(validating: text) else { preconditionFailure("\(text) is a valid session id") }
        return id
    }

    /// A content-addressed entry, as `oplog-sync append` writes one.
    public static func entry(actor: String, lamport: Int, parents: [OpID], number: Int = 60) -> OpEntry {
        let domainOp = JSONValue.object(
            JSONObject(["op": .string("insert"), "pitch": .number(JSONNumber(number)), "text": .string("café ♪")])
        )
        do {
            return try OpEntry.make(
                actorID: actor,
                lamportTimestamp: lamport,
                parentOpIDs: parents,
                domain: "music",
                domainOp: domainOp,
                createdAt: Self.createdAt
            )
        } catch {
            preconditionFailure("a fixture entry is valid: \(error)")
        }
    }

    /// An entry with an opaque (UUID-like) op id, laid out as Muse's Python writer lays it out
    /// (`\u00e9` escapes included).
    public static func opaque(id: String, actor: String, lamport: Int, parents: [String]) -> OpEntry {
        let line = Self.museLine(id: id, actor: actor, lamport: lamport, parents: parents)
        guard let entry = try? OpEntry(line: Array(line.utf8)) else { preconditionFailure("a Muse line parses") }
        return entry
    }

    /// A line as Muse's `json.dumps(entry, separators=(",", ":"))` writes it.
    public static func museLine(id: String, actor: String, lamport: Int, parents: [String]) -> String {
        let parentList = parents.map { "\"\($0)\"" }.joined(separator: ",")
        return #"{"op_id":"\#(id)","actor_id":"\#(actor)","lamport_ts":\#(lamport),"parent_op_ids":[\#(parentList)],"#
            + #""domain":"music","domain_op":{"op":"insert","text":"caf\u00e9","pitch":60.5},"#
            + #""created_at":"\#(Self.createdAt)","intent_id":"","reservation_id":""}"#
    }

    /// A chain of `count` entries by `actor` with clocks from `firstLamport` on, each the child
    /// of the one before (the first of `parent`, if given); every seventh has an opaque id.
    public static func chain(actor: String, firstLamport: Int, count: Int, after parent: OpEntry? = nil) -> [OpEntry] {
        var entries: [OpEntry] = []
        for offset in 0..<count {
            let lamport = firstLamport + offset
            let parents = (entries.last ?? parent).map { [$0.opID] } ?? []
            if offset % 7 == 3 {
                let id = "\(actor)-0000-4000-8000-\(String(lamport, radix: 16))"
                entries.append(Self.opaque(id: id, actor: actor, lamport: lamport, parents: parents.map(\.rawValue)))
            } else {
                entries.append(Self.entry(actor: actor, lamport: lamport, parents: parents, number: lamport % 128))
            }
        }
        return entries
    }

    /// A checkpoint as this library makes one (with a frontier).
    public static func checkpoint(session: SessionID = Self.session, snapshot: String, lamport: Int) -> Checkpoint {
        Checkpoint.make(
            sessionID: session,
            snapshotID: snapshot,
            lamportTimestamp: lamport,
            opCount: lamport,
            createdAt: Self.createdAt,
            frontier: Frontier(["studio": lamport, "laptop": lamport / 2])
        )
    }

    /// A checkpoint as Muse writes one: `json.dumps(ckpt, indent=2) + "\n"`, no frontier.
    /// `lamport` is the `lamport_ts` field's JSON text, whatever it is.
    public static func museCheckpoint(session: String = "live-1", snapshot: String, lamport: String) -> [UInt8] {
        let text = """
            {
              "session_id": "\(session)",
              "snapshot_id": "\(snapshot)",
              "lamport_ts": \(lamport),
              "op_count": 3,
              "created_at": "\(Self.createdAt)"
            }

            """
        return Array(text.utf8)
    }
}
