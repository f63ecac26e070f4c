import Yams

/// The keys `oplog-sync run` reads from its config file and from `OPLOG_SYNC_*` variables, with
/// the type each must have: the one list that the strict checks (an unknown key or a wrong type
/// is a one-line error naming it and the nearest known key), `Config/oplog-sync.yaml` and its
/// test go by.
public enum SettingKeys {
    /// What a key's value must be.
    public enum Kind: Sendable, Equatable {
        /// Text (an address, a path, a level).
        case text
        /// `true` or `false`, written exactly so: `yes`, `on`, `1` are refused, in a file and in
        /// the environment alike.
        case boolean
        /// A number.
        case number
        /// A list of strings (comma-separated in the environment).
        case list
        /// The `peers:` list (strings or mappings, DESIGN §7).
        case peers
        /// Read only to be refused with its own message (`node_id`).
        case retired
    }

    /// Every key, in the order `Config/oplog-sync.yaml` shows them.
    public static let all: [(name: String, kind: Kind)] = [
        ("listen", .text),
        ("peers", .peers),
        ("accept", .list),
        ("read_only", .boolean),
        ("state_dir", .text),
        ("fsync", .boolean),
        ("hold_seconds", .number),
        ("stale_tail_seconds", .number),
        ("forwarding", .text),
        ("log_level", .text),
        ("log_format", .text),
        ("http", .text),
        ("node_id", .retired),
    ]

    /// The kind of `name`, or `nil` when no such key exists.
    public static func kind(of name: String) -> Kind? {
        self.all.first { $0.name == name }?.kind
    }

    /// The known key nearest to `name` in edit distance (ties: the first in ``all``).
    public static func nearest(to name: String) -> String {
        let candidates = self.all.map(\.name).filter { self.kind(of: $0) != .retired }
        return candidates.min { self.distance(name, $0) < self.distance(name, $1) } ?? "listen"
    }

    /// Checks the `OPLOG_SYNC_*` variables (given without the prefix): each names a key and a
    /// boolean one says `true` or `false`.
    ///
    /// - Throws: ``AgentError`` `.invalidConfiguration`, one line naming the variable and the
    ///   nearest known one.
    public static func checkEnvironment(_ scoped: [String: String]) throws(AgentError) {
        for (name, value) in scoped.sorted(by: { $0.key < $1.key }) {
            let key = name.lowercased()
            guard let kind = self.kind(of: key), name == key.uppercased() else {
                throw AgentError(
                    code: .invalidConfiguration,
                    message: "unknown environment variable OPLOG_SYNC_\(name) (the nearest known one is "
                        + "OPLOG_SYNC_\(self.nearest(to: key).uppercased()))"
                )
            }
            try self.check(value, kind: kind, place: "OPLOG_SYNC_\(name)")
        }
    }

    /// Checks a config file's top level: each key is known and each scalar has its key's type.
    /// The `peers:` entries are checked where they are read (``AgentConfigFile``).
    ///
    /// - Throws: ``AgentError`` `.invalidConfiguration`, one line naming `file` and the key.
    static func checkFile(_ mapping: Node.Mapping, file: String) throws(AgentError) {
        for (keyNode, value) in mapping {
            let key = keyNode.string ?? "\(keyNode)"
            guard let kind = self.kind(of: key) else {
                throw AgentError(
                    code: .invalidConfiguration,
                    message: "config file \(file): unknown key \"\(key)\" (the nearest known key is "
                        + "\"\(self.nearest(to: key))\")"
                )
            }
            let place = "config file \(file): \(key)"
            switch kind {
            case .peers, .retired:
                continue
            case .list:
                guard let items = value.sequence, items.allSatisfy({ $0.scalar != nil }) else {
                    throw AgentError(code: .invalidConfiguration, message: "\(place) must be a list of strings")
                }
            case .text, .boolean, .number:
                guard let scalar = value.scalar else {
                    throw AgentError(code: .invalidConfiguration, message: "\(place) must be \(self.describe(kind))")
                }
                try self.check(scalar.string, kind: kind, place: place)
            }
        }
    }

    private static func check(_ text: String, kind: Kind, place: String) throws(AgentError) {
        switch kind {
        case .boolean where text != "true" && text != "false":
            throw AgentError(code: .invalidConfiguration, message: "\(place) is \"\(text)\"; it must be true or false")
        case .number where Double(text) == nil:
            throw AgentError(code: .invalidConfiguration, message: "\(place) is \"\(text)\"; it must be a number")
        default:
            return
        }
    }

    private static func describe(_ kind: Kind) -> String {
        switch kind {
        case .boolean: "true or false"
        case .number: "a number"
        case .list, .peers: "a list"
        case .text, .retired: "a string"
        }
    }

    /// Levenshtein distance over characters.
    static func distance(_ a: String, _ b: String) -> Int {
        let b = Array(b)
        // previous[j]: the distance between the part of `a` read so far and b's first j.
        var previous = Array(0...b.count)
        for (i, character) in a.enumerated() {
            var current = [i + 1]
            for j in b.indices {
                let substitution = previous[j] + (character == b[j] ? 0 : 1)
                current.append(min(previous[j + 1] + 1, current[j] + 1, substitution))
            }
            previous = current
        }
        return previous[b.count]
    }
}
