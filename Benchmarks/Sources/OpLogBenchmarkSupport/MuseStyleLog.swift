public import OpLog
public import SystemPackage

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Entries shaped like the ones `Tests/Interop/muse_like.py write` appends, so our numbers and
/// the Python writer's are about the same lines.
public enum MuseStyleLog {
    /// The session every benchmark writes or reads.
    public static let sessionName = "bench"
    /// The domain every generated entry carries.
    public static let domain = "music"

    /// The session id for ``sessionName``.
    public static var sessionID: SessionID {
        guard let id = try? SessionID(validating: Self.sessionName) else {
            preconditionFailure("\(Self.sessionName) is a valid session id")
        }
        return id
    }

    /// `root/.muse/op_log/<session>/ops.jsonl`.
    public static func opsPath(root: FilePath) -> FilePath {
        root.appending(".muse").appending("op_log").appending(Self.sessionName).appending(SessionLog.opsFileName)
    }

    /// Creates `root/.muse/op_log/<session>` (for writers that do not create it themselves) and
    /// returns the path of its `ops.jsonl`.
    public static func makeSessionFolder(root: FilePath) throws -> FilePath {
        var folder = root
        for component in [".muse", "op_log", Self.sessionName] {
            folder.append(component)
            guard folder.withPlatformString({ mkdir($0, 0o755) }) == 0 || errno == EEXIST else {
                throw Errno(rawValue: errno)
            }
        }
        return folder.appending(SessionLog.opsFileName)
    }

    private static let kinds = ["insert", "delete", "move", "velocity", "tempo"]

    /// The `domain_op` muse_like.py writes for its `sequence`-th entry:
    /// `{"op": KIND, "pitch": 60 + i % 12, "text": "café ♫", "seq": i}`.
    public static func domainOp(sequence: Int) -> JSONValue {
        .object(
            JSONObject([
                "op": .string(Self.kinds[sequence % Self.kinds.count]),
                "pitch": .number(JSONNumber(60 + sequence % 12)),
                "text": .string("caf\u{E9} \u{266B}"),
                "seq": .number(JSONNumber(sequence)),
            ])
        )
    }

    /// `count` content-addressed lines (without `\n`) as ``OpLog/append(actorID:domain:domainOp:parentOpIDs:intentID:reservationID:staleTailAge:now:)``
    /// makes them for one actor appending to an empty log: Lamport timestamps 1...count.
    public static func contentAddressedLines(count: Int, actorID: String) throws -> [[UInt8]] {
        let now = WallClockTime.now()
        return try (0..<count).map { index in
            try OpEntry.make(
                actorID: actorID,
                lamportTimestamp: index + 1,
                domain: Self.domain,
                domainOp: Self.domainOp(sequence: index),
                createdAt: now.iso8601
            ).line
        }
    }

    /// Writes a log of `count` entries as Muse's writer lays them out (`json.dumps(entry,
    /// separators=(",", ":"))`, member order of `make_op_entry`, UUID v4 op ids, ASCII-escaped
    /// text), four actors taking turns, each entry but the first naming its predecessor as parent.
    ///
    /// The bytes depend only on `count` and `seed`.
    /// - Returns: the file's size in bytes.
    public static func writeLog(to path: FilePath, count: Int, seed: UInt64 = 0x5EED) throws -> Int {
        let descriptor = try FileDescriptor.open(
            path,
            .writeOnly,
            options: [.create, .truncate],
            permissions: [.ownerReadWrite, .groupRead, .otherRead]
        )
        defer { try? descriptor.close() }
        var generator = SplitMix64(seed: seed)
        let start = WallClockTime(seconds: 1_790_000_000, nanoseconds: 0)
        var previous: String?
        var buffer: [UInt8] = []
        var size = 0
        for index in 0..<count {
            let opID = Self.uuid4(using: &generator)
            let createdAt = WallClockTime(
                seconds: start.seconds + index / 100,
                nanoseconds: (index % 100) * 10_000_000 + 1_000
            )
            let entry = JSONObject([
                "op_id": .string(opID),
                "actor_id": .string("agent-\(index % 4)"),
                "lamport_ts": .number(JSONNumber(index + 1)),
                "parent_op_ids": .array(previous.map { [.string($0)] } ?? []),
                "domain": .string(Self.domain),
                "domain_op": Self.domainOp(sequence: index),
                "created_at": .string(createdAt.iso8601),
                "intent_id": .string(""),
                "reservation_id": .string(""),
            ])
            buffer.append(contentsOf: PythonJSON.compact(.object(entry)))
            buffer.append(UInt8(ascii: "\n"))
            previous = opID
            if buffer.count >= 1 << 20 || index == count - 1 {
                size += try descriptor.writeAll(buffer)
                buffer.removeAll(keepingCapacity: true)
            }
        }
        return size
    }

    /// A random UUID in Python's `str(uuid.uuid4())` form.
    static func uuid4(using generator: inout SplitMix64) -> String {
        var bytes = (0..<16).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        bytes[6] = bytes[6] & 0x0F | 0x40
        bytes[8] = bytes[8] & 0x3F | 0x80
        let digits = Array("0123456789abcdef")
        var text = ""
        for (index, byte) in bytes.enumerated() {
            if [4, 6, 8, 10].contains(index) { text.append("-") }
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return text
    }
}
