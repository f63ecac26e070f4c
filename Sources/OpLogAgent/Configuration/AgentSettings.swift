public import Configuration
import Foundation
public import OpLogIdentity
import OpLogReplication
public import SystemPackage
import Yams

/// Settings of `oplog-sync run`, from its command-line options, `OPLOG_SYNC_*` environment
/// variables and a YAML file (`--config FILE`), in that order of precedence.
///
/// File keys (all optional): `listen`, `peers` (a list: `ID@HOST:PORT` strings, or mappings
/// with `id`, `address`, `sessions`, `receive`, see ``PeerEntry``), `accept` (a list of node
/// IDs), `read_only`, `state_dir`, `fsync`, `hold_seconds`, `stale_tail_seconds`, `log_level`,
/// `log_format` (`text` or `json`), `http` (the control endpoint's `HOST:PORT`, or `off`). The environment variable of a key is
/// `OPLOG_SYNC_` and the key in capitals (`OPLOG_SYNC_PEERS=ID@a:1,ID@b:2`, `OPLOG_SYNC_ACCEPT=ID,ID`
/// for lists). `node_id` is read only to be refused: a node's ID is its identity's now
/// (``retiredNodeID``).
public struct AgentSettings: Sendable, Equatable {
    /// One `peers:` entry as written: an `ID@HOST:PORT` string (``text``) or a mapping's fields,
    /// checked by ``AgentSettings/peerConfigurations()``.
    public struct PeerEntry: Sendable, Equatable {
        /// The `ID@HOST:PORT` string of an entry written as one.
        public var text: String?
        /// `id`: the peer's node ID (required in a mapping).
        public var id: String?
        /// `address`: `HOST:PORT` to dial; none for a peer that only dials in.
        public var address: String?
        /// `sessions`: glob patterns over session ids; none: every session.
        public var sessions: [String]?
        /// `receive`: whether the peer's entries are written (default true).
        public var receive: Bool?

        /// An entry with the given fields.
        public init(
            text: String? = nil,
            id: String? = nil,
            address: String? = nil,
            sessions: [String]? = nil,
            receive: Bool? = nil
        ) {
            self.text = text
            self.id = id
            self.address = address
            self.sessions = sessions
            self.receive = receive
        }
    }

    public var listen: String?
    /// The `peers:` entries (the environment's `OPLOG_SYNC_PEERS` strings when it is set).
    public var peers: [PeerEntry]?
    /// Where ``peers`` came from, for error messages: `OPLOG_SYNC_PEERS` or `config file …`.
    public var peersOrigin = "config peers"
    /// The `accept:` IDs.
    public var accept: [String]?
    /// Where ``accept`` came from, for error messages.
    public var acceptOrigin = "config accept"
    /// A `node_id` key (or `OPLOG_SYNC_NODE_ID`), which is no longer honoured: `run` refuses it.
    public var retiredNodeID: String?
    public var isReadOnly: Bool?
    public var stateDirectory: String?
    public var synchronizeWrites: Bool?
    public var holdSeconds: Double?
    public var staleTailSeconds: Double?
    /// `tree` or `flood` (see ``ForwardingPolicy``).
    public var forwarding: String?
    public var logLevel: String?
    public var logFormat: String?
    public var http: String?
    /// Where each key that is set came from, by key: `option`, `environment OPLOG_SYNC_…` or
    /// `config file …` (for `run --check`).
    public var origins: [String: String] = [:]

    public init() {}

    /// Reads the command line's `options`, the environment and the file (if given), in that
    /// order of precedence (STYLE §9: the options sit in an `InMemoryProvider` ahead of the
    /// others).
    ///
    /// - Parameters:
    ///   - options: the settings given as command-line options, by key (each one of
    ///     ``SettingKeys/all``): `.string` for text, `.bool`, `.double`, `.stringArray` for a
    ///     list and for `peers` (each `ID@HOST:PORT`).
    ///   - configFile: the YAML file, if any.
    ///   - environment: the process's environment; only `OPLOG_SYNC_*` variables are read.
    /// - Returns: the settings given, each with ``origins`` naming where it came from.
    /// - Throws: ``AgentError`` naming the file or key when the file is missing or not YAML, or a
    ///   value has the wrong type.
    public static func read(
        options: [String: ConfigContent] = [:],
        configFile: FilePath?,
        environment: [String: String]
    ) async throws(AgentError) -> AgentSettings {
        let scoped = Self.scoped(environment)
        try SettingKeys.checkEnvironment(scoped)
        let fileKeys = try configFile.map { path throws(AgentError) in try Self.checkKeys(of: path) } ?? []
        var values: [AbsoluteConfigKey: ConfigValue] = [:]
        for (key, content) in options {
            precondition(SettingKeys.kind(of: key) != nil, "\(key) is not a setting")
            values[AbsoluteConfigKey([key])] = ConfigValue(content, isSecret: false)
        }
        var providers: [any ConfigProvider] = [
            InMemoryProvider(name: "options", values: values),
            EnvironmentVariablesProvider(environmentVariables: scoped),
        ]
        var fileEntries: [PeerEntry]?
        if let configFile {
            do {
                let file = try await FileProvider<AgentConfigFile>(filePath: configFile)
                fileEntries = (file.snapshot() as? AgentConfigFile)?.peerEntries
                providers.append(file)
            } catch {
                throw AgentError(
                    code: .invalidConfiguration,
                    message: "cannot read config file \(configFile): \(error)"
                )
            }
        }
        let reader = ConfigReader(providers: providers)
        var settings = AgentSettings()
        settings.listen = try Self.value(reader, "listen", reader.string(forKey: "listen"))
        let fileName = configFile.map { "config file \($0)" } ?? "config"
        if options["peers"] == nil, scoped["PEERS"] == nil, let fileEntries {
            settings.peers = fileEntries
        } else {
            settings.peers = try Self.value(reader, "peers", reader.stringArray(forKey: "peers"))?
                .map { PeerEntry(text: $0) }
        }
        func origin(_ key: String, option: String) -> String {
            if options[key] != nil { return option }
            return scoped[key.uppercased()] != nil ? "OPLOG_SYNC_\(key.uppercased())" : "\(fileName), \(key):"
        }
        if settings.peers != nil { settings.peersOrigin = origin("peers", option: "--peer") }
        settings.accept = try Self.value(reader, "accept", reader.stringArray(forKey: "accept"))
        if settings.accept != nil { settings.acceptOrigin = origin("accept", option: "--accept") }
        settings.retiredNodeID = reader.string(forKey: "node_id")
        settings.isReadOnly = try Self.value(reader, "read_only", reader.bool(forKey: "read_only"))
        settings.stateDirectory = try Self.value(reader, "state_dir", reader.string(forKey: "state_dir"))
        settings.synchronizeWrites = try Self.value(reader, "fsync", reader.bool(forKey: "fsync"))
        settings.holdSeconds = try Self.value(reader, "hold_seconds", reader.double(forKey: "hold_seconds"))
        settings.staleTailSeconds = try Self.value(
            reader,
            "stale_tail_seconds",
            reader.double(forKey: "stale_tail_seconds")
        )
        settings.forwarding = try Self.value(reader, "forwarding", reader.string(forKey: "forwarding"))
        settings.logLevel = try Self.value(reader, "log_level", reader.string(forKey: "log_level"))
        settings.logFormat = try Self.value(reader, "log_format", reader.string(forKey: "log_format"))
        settings.http = try Self.value(reader, "http", reader.string(forKey: "http"))
        for (key, _) in SettingKeys.all {
            if options[key] != nil {
                settings.origins[key] = "option"
            } else if scoped[key.uppercased()] != nil {
                settings.origins[key] = "environment OPLOG_SYNC_\(key.uppercased())"
            } else if let configFile, fileKeys.contains(key) {
                settings.origins[key] = "config file \(configFile)"
            }
        }
        return settings
    }

    /// The ``peers`` entries checked: each a ``PeerConfiguration`` (`nil` when there are none).
    ///
    /// - Throws: ``AgentError`` `.invalidConfiguration` with one line naming ``peersOrigin`` and
    ///   the entry: an `ID@HOST:PORT` string without an ID, an ID or address that does not
    ///   parse, a session pattern that is not one.
    public func peerConfigurations() throws(AgentError) -> [PeerConfiguration]? {
        guard let peers = self.peers else { return nil }
        return try peers.enumerated().map { index, entry throws(AgentError) in
            let origin = peers.count == 1 ? self.peersOrigin : "\(self.peersOrigin) entry \(index + 1)"
            if let text = entry.text { return try PeerConfiguration(parsing: text, origin: origin) }
            let id = try PeerConfiguration.parseID(entry.id ?? "", origin: "\(origin) id")
            var address: PeerAddress?
            if let text = entry.address {
                do throws(AgentError) {
                    address = try PeerAddress(parsing: text)
                } catch {
                    throw AgentError(code: .invalidConfiguration, message: "\(origin) address: \(error.message)")
                }
            }
            let sessions = try entry.sessions?.map { text throws(AgentError) in
                do throws(ReplicationError) {
                    return try SessionPattern(validating: text)
                } catch {
                    throw AgentError(code: .invalidConfiguration, message: "\(origin) sessions: \(error.message)")
                }
            }
            return PeerConfiguration(
                id: id,
                address: address,
                rules: PeerConfiguration.Rules(sessions: sessions, isReceiving: entry.receive ?? true)
            )
        }
    }

    /// The ``accept`` IDs checked (`nil` when there are none).
    ///
    /// - Throws: ``AgentError`` `.invalidConfiguration` naming ``acceptOrigin`` when one is not a
    ///   node ID.
    public func acceptedIDs() throws(AgentError) -> [NodeFingerprint]? {
        try self.accept?.map { text throws(AgentError) in try PeerConfiguration.parseID(text, origin: self.acceptOrigin)
        }
    }

    /// Checks the file's keys and the types of their values (``SettingKeys/checkFile(_:file:)``)
    /// before swift-configuration reads it; a file that is not YAML is left for it to report.
    /// Returns the keys the file sets.
    private static func checkKeys(of configFile: FilePath) throws(AgentError) -> Set<String> {
        guard let data = FileManager.default.contents(atPath: configFile.string),
            let root = try? Yams.Parser(yaml: data).singleRoot()
        else { return [] }
        guard let mapping = root.mapping else {
            if root.scalar?.string.isEmpty == true || root.scalar?.string == "~" { return [] }
            throw AgentError(
                code: .invalidConfiguration,
                message: "config file \(configFile): must be a mapping of keys (see Config/oplog-sync.yaml)"
            )
        }
        try SettingKeys.checkFile(mapping, file: configFile.string)
        return Set(mapping.keys.compactMap(\.string))
    }

    /// Only `OPLOG_SYNC_*` variables, without the prefix, so a stray `PEERS` in the environment
    /// means nothing here.
    private static func scoped(_ environment: [String: String]) -> [String: String] {
        var scoped: [String: String] = [:]
        for (name, value) in environment where name.hasPrefix("OPLOG_SYNC_") {
            scoped[String(name.dropFirst("OPLOG_SYNC_".count))] = value
        }
        return scoped
    }

    /// `typed`, or an error when the key is present but did not convert to its type.
    private static func value<T>(_ reader: ConfigReader, _ key: String, _ typed: T?) throws(AgentError) -> T? {
        if let typed { return typed }
        if let text = reader.string(forKey: ConfigKey(key))
            ?? reader.stringArray(forKey: ConfigKey(key))?.joined(separator: ",")
        {
            throw AgentError(
                code: .invalidConfiguration,
                message: "config \(key): \"\(text)\" is not a valid \(Self.typeName(T.self))"
            )
        }
        return nil
    }

    private static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is Bool.Type: "true or false"
        case is Double.Type: "number"
        case is [String].Type: "list of strings"
        default: "string"
        }
    }
}
