import OpLog

/// How the benchmark's entries get their op ids.
enum OpIDStyle: Sendable {
    /// Random UUID v4 ids, as Muse's writer makes them: opaque to every receiver.
    case uuid
    /// `sha256:` content ids made by `OpEntry.make`, as `oplog-sync append` makes them: every
    /// receiver verifies them.
    case contentAddressed

    /// A short name for the report.
    var name: String {
        switch self {
        case .uuid: "UUID op ids, as Muse writes them"
        case .contentAddressed: "sha256 content ids (OpEntry.make), verified on receipt"
        }
    }
}

/// The lines one measurement appends, each with its `\n`, and the way back from a line to its
/// index: a reader finding a line in the other node's file looks it up by its op id.
///
/// Entries are laid out as Muse's writer lays them out (`json.dumps(entry, separators=(",", ":"))`,
/// member order of `make_op_entry`, ASCII-escaped text), one actor counting Lamport timestamps up
/// from 1, no parents, and the `domain_op` of `Tests/Interop/muse_like.py write`: about 270 bytes.
struct LineSet: Sendable {
    /// Every line, `\n` included, in writing order.
    let lines: [[UInt8]]
    /// The index in ``lines`` of each op id.
    let indexByOpID: [String: Int]

    /// The total size of ``lines`` in bytes.
    var byteCount: Int { self.lines.reduce(0) { $0 + $1.count } }

    /// Makes `count` distinct entries.
    /// - Throws: ``BenchmarkError`` if the library refuses an entry (it does not for these values).
    init(count: Int, style: OpIDStyle) throws(BenchmarkError) {
        let createdAt = WallClockTime.now().iso8601
        var generator = SystemRandomNumberGenerator()
        var lines: [[UInt8]] = []
        lines.reserveCapacity(count)
        var indexByOpID: [String: Int] = [:]
        indexByOpID.reserveCapacity(count)
        for index in 0..<count {
            var line: [UInt8]
            switch style {
            case .uuid:
                line = Self.museLine(opID: Self.uuid4(using: &generator), sequence: index, createdAt: createdAt)
            case .contentAddressed:
                do {
                    line = try OpEntry.make(
                        actorID: Self.actorID,
                        lamportTimestamp: index + 1,
                        domain: Self.domain,
                        domainOp: Self.domainOp(sequence: index),
                        createdAt: createdAt
                    ).line
                } catch {
                    throw BenchmarkError("OpEntry.make refused entry \(index): \(error)")
                }
            }
            guard let opID = Self.opID(of: line[...]), indexByOpID.updateValue(index, forKey: opID) == nil else {
                throw BenchmarkError("entry \(index) has no op id first, or a repeated one")
            }
            line.append(UInt8(ascii: "\n"))
            lines.append(line)
        }
        self.lines = lines
        self.indexByOpID = indexByOpID
    }

    /// The op id of a line (without its `\n`) that starts `{"op_id":"`, as both layouts do.
    static func opID(of line: ArraySlice<UInt8>) -> String? {
        guard line.starts(with: Self.opIDPrefix) else { return nil }
        let start = line.startIndex + Self.opIDPrefix.count
        guard let end = line[start...].firstIndex(of: UInt8(ascii: "\"")) else { return nil }
        return String(decoding: line[start..<end], as: UTF8.self)
    }

    private static let opIDPrefix = Array(#"{"op_id":""#.utf8)
    private static let actorID = "bench-writer"
    private static let domain = "music"
    private static let kinds = ["insert", "delete", "move", "velocity", "tempo"]

    /// `{"op": KIND, "pitch": 60 + i % 12, "text": "café ♫", "seq": i}`, as muse_like.py writes.
    private static func domainOp(sequence: Int) -> JSONValue {
        .object(
            JSONObject([
                "op": .string(Self.kinds[sequence % Self.kinds.count]),
                "pitch": .number(JSONNumber(60 + sequence % 12)),
                "text": .string("caf\u{E9} \u{266B}"),
                "seq": .number(JSONNumber(sequence)),
            ])
        )
    }

    private static func museLine(opID: String, sequence: Int, createdAt: String) -> [UInt8] {
        let entry = JSONObject([
            "op_id": .string(opID),
            "actor_id": .string(Self.actorID),
            "lamport_ts": .number(JSONNumber(sequence + 1)),
            "parent_op_ids": .array([]),
            "domain": .string(Self.domain),
            "domain_op": Self.domainOp(sequence: sequence),
            "created_at": .string(createdAt),
            "intent_id": .string(""),
            "reservation_id": .string(""),
        ])
        return PythonJSON.compact(.object(entry))
    }

    /// A random UUID in Python's `str(uuid.uuid4())` form.
    private static func uuid4(using generator: inout some RandomNumberGenerator) -> String {
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
