import Configuration
public import SystemPackage

/// Settings of `oplog-sync run` that may come from a YAML file (`--config FILE`) or from
/// `OPLOG_SYNC_*` environment variables; a command-line option overrides both, and the
/// environment overrides the file.
///
/// File keys (all optional): `listen`, `peers` (a list), `node_id`, `read_only`, `state_dir`,
/// `fsync`, `hold_seconds`, `stale_tail_seconds`, `log_level`, `http` (the control endpoint's
/// `HOST:PORT`, or `off`). The environment variable of a key
/// is `OPLOG_SYNC_` and the key in capitals (`OPLOG_SYNC_PEERS=a:1,b:2` for lists).
public struct AgentSettings: Sendable, Equatable {
    public var listen: String?
    public var peers: [String]?
    public var nodeID: String?
    public var isReadOnly: Bool?
    public var stateDirectory: String?
    public var synchronizeWrites: Bool?
    public var holdSeconds: Double?
    public var staleTailSeconds: Double?
    public var logLevel: String?
    public var http: String?

    public init() {}

    /// Reads the environment, then the file (if given), the environment winning.
    ///
    /// - Throws: ``AgentError`` naming the file or key when the file is missing or not YAML, or a
    ///   value has the wrong type.
    public static func read(
        configFile: FilePath?,
        environment: [String: String]
    ) async throws(AgentError) -> AgentSettings {
        var providers: [any ConfigProvider] = [
            EnvironmentVariablesProvider(environmentVariables: Self.scoped(environment))
        ]
        if let configFile {
            do {
                providers.append(try await FileProvider<YAMLSnapshot>(filePath: configFile))
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
        settings.peers = try Self.value(reader, "peers", reader.stringArray(forKey: "peers"))
        settings.nodeID = try Self.value(reader, "node_id", reader.string(forKey: "node_id"))
        settings.isReadOnly = try Self.value(reader, "read_only", reader.bool(forKey: "read_only"))
        settings.stateDirectory = try Self.value(reader, "state_dir", reader.string(forKey: "state_dir"))
        settings.synchronizeWrites = try Self.value(reader, "fsync", reader.bool(forKey: "fsync"))
        settings.holdSeconds = try Self.value(reader, "hold_seconds", reader.double(forKey: "hold_seconds"))
        settings.staleTailSeconds = try Self.value(
            reader,
            "stale_tail_seconds",
            reader.double(forKey: "stale_tail_seconds")
        )
        settings.logLevel = try Self.value(reader, "log_level", reader.string(forKey: "log_level"))
        settings.http = try Self.value(reader, "http", reader.string(forKey: "http"))
        return settings
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
