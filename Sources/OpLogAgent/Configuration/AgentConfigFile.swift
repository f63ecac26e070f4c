public import Configuration
import Foundation
import Yams

/// The YAML config file as swift-configuration reads it, plus the one thing its
/// `YAMLSnapshot` cannot hold: a `peers:` list of mappings (DESIGN §7).
///
/// `YAMLSnapshot` keeps scalars and lists of scalars only, and refuses a whole file holding a
/// list of mappings. So the file is parsed once with Yams; a `peers:` list with any mapping in
/// it is taken out into ``peerEntries`` and the rest of the file is handed to a `YAMLSnapshot`,
/// which answers every other key as before. A `peers:` list of strings only stays with it.
public final class AgentConfigFile: FileConfigSnapshot {
    public typealias ParsingOptions = YAMLSnapshot.ParsingOptions

    /// The file's `peers:` entries, when it lists them as mappings (or mixes mappings and
    /// strings); `nil` otherwise.
    public let peerEntries: [AgentSettings.PeerEntry]?
    private let rest: YAMLSnapshot

    /// Parses `data`.
    ///
    /// - Throws: ``AgentError`` `.invalidConfiguration` naming the entry when a `peers:` mapping
    ///   holds a key other than `id`, `address`, `sessions`, `receive`, lacks `id`, or has a
    ///   value of the wrong type; Yams' and `YAMLSnapshot`'s errors for the rest.
    public init(data: RawSpan, providerName: String, parsingOptions: ParsingOptions) throws {
        let bytes = data.withUnsafeBytes { Data($0) }
        guard let root = try Yams.Parser(yaml: bytes).singleRoot(), let mapping = root.mapping else {
            self.peerEntries = nil
            self.rest = try YAMLSnapshot(data: data, providerName: providerName, parsingOptions: parsingOptions)
            return
        }
        guard let peers = mapping["peers"]?.sequence, peers.contains(where: { $0.mapping != nil }) else {
            self.peerEntries = nil
            self.rest = try YAMLSnapshot(data: data, providerName: providerName, parsingOptions: parsingOptions)
            return
        }
        self.peerEntries = try peers.enumerated().map { index, node in try Self.entry(node, index: index) }
        let others = Node.Mapping(mapping.filter { $0.key.string != "peers" })
        let text = others.isEmpty ? "{}\n" : try Yams.serialize(node: .mapping(others))
        let restBytes = Array(text.utf8)
        self.rest = try YAMLSnapshot(
            data: restBytes.span.bytes,
            providerName: providerName,
            parsingOptions: parsingOptions
        )
    }

    /// One `peers:` entry: a string (`ID@HOST:PORT`) or a mapping.
    private static func entry(_ node: Node, index: Int) throws(AgentError) -> AgentSettings.PeerEntry {
        let place = "peers entry \(index + 1)"
        if let text = node.string, node.scalar != nil { return AgentSettings.PeerEntry(text: text) }
        guard let fields = node.mapping else {
            throw AgentError(
                code: .invalidConfiguration,
                message: "config \(place) is neither ID@HOST:PORT nor a mapping"
            )
        }
        var entry = AgentSettings.PeerEntry()
        for (key, value) in fields {
            switch key.string {
            case "id":
                guard let text = value.scalar?.string else { throw Self.mismatch(place, "id", "a node ID") }
                entry.id = text
            case "address":
                guard let text = value.scalar?.string else { throw Self.mismatch(place, "address", "HOST:PORT") }
                entry.address = text
            case "sessions":
                guard let list = value.sequence, list.allSatisfy({ $0.scalar != nil }) else {
                    throw Self.mismatch(place, "sessions", "a list of session patterns")
                }
                entry.sessions = list.compactMap { $0.scalar?.string }
            case "receive":
                guard let flag = value.bool else { throw Self.mismatch(place, "receive", "true or false") }
                entry.receive = flag
            default:
                throw AgentError(
                    code: .invalidConfiguration,
                    message: "config \(place) has the key \(String(reflecting: key.string ?? "?")); "
                        + "a peer has id, address, sessions and receive"
                )
            }
        }
        guard entry.id != nil else {
            throw AgentError(code: .invalidConfiguration, message: "config \(place) has no id")
        }
        return entry
    }

    private static func mismatch(_ place: String, _ key: String, _ type: String) -> AgentError {
        AgentError(code: .invalidConfiguration, message: "config \(place): \(key) must be \(type)")
    }

    // swift-format-ignore: AllPublicDeclarationsHaveDocumentation
    public var providerName: String { self.rest.providerName }

    /// The value of every key but a `peers:` list of mappings, as `YAMLSnapshot` reads it.
    public func value(forKey key: AbsoluteConfigKey, type: ConfigType) throws -> LookupResult {
        try self.rest.value(forKey: key, type: type)
    }

    /// The rest of the file, as `YAMLSnapshot` describes it.
    public var description: String { self.rest.description }

    /// The rest of the file, as `YAMLSnapshot` describes it for debugging.
    public var debugDescription: String { self.rest.debugDescription }
}
