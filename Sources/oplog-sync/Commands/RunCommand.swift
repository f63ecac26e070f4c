import ArgumentParser
import Configuration
import Foundation
import Logging
import OpLog
import OpLogAgent
import OpLogControl
import OpLogIdentity
import OpLogReplication
import ServiceLifecycle
import SystemPackage
import UnixSignals

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `oplog-sync run`: the replication daemon.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Replicate every session under ROOT/.muse/op_log/ with peers, live, until stopped.",
        discussion: """
            Watches the op logs with inotify (sessions created while running included), ships new \
            complete lines to every peer over mutual TLS 1.3, and merges what peers send by op_id and \
            Lamport order. A peer is named by its node ID (`oplog-sync id` prints it on that machine): \
            --peer ID@HOST:PORT dials it and lets it in, --accept ID only lets it in; every other \
            node is refused. Prints 'listening on HOST:PORT' on stdout once it accepts connections (with port \
            0, the port the system chose), then 'http on HOST:PORT' once the control endpoint \
            (--http: /status, /metrics, /healthz and a status page at /) serves; logs to stderr (--log-format json: \
            one JSON object per line). \
            SIGTERM or SIGINT: finishes the write in progress and exits 0.
            """
    )

    @OptionGroup var rootOptions: RootOptions

    @Option(
        help: ArgumentHelp(
            "Address to accept peers on (default 127.0.0.1:7420; port 0: any free port).",
            valueName: "host:port"
        )
    )
    var listen: String?

    @Option(
        name: .customLong("peer"),
        help: ArgumentHelp(
            "A peer to dial and keep dialling, and to let in when it dials here; repeatable. ID is what `oplog-sync id` prints on that machine.",
            valueName: "id@host:port"
        )
    )
    var peers: [String] = []

    @Option(
        name: .customLong("http"),
        help: ArgumentHelp(
            "Address of the control endpoint: /status, /metrics, /healthz and a status page at / (default 127.0.0.1:7421; port 0: any free port; off: none). It has no authentication: keep it on loopback.",
            valueName: "host:port|off"
        )
    )
    var http: String?

    @Option(
        name: .customLong("accept"),
        help: ArgumentHelp("A node ID to let in when it dials here (never dialled); repeatable.", valueName: "id")
    )
    var accepted: [String] = []

    /// Gone: a node's ID is its identity's now. Kept hidden so that giving it is a clear error.
    @Option(name: .customLong("node-id"), help: .hidden)
    var nodeID: String?

    @Flag(name: .customLong("read-only"), help: "Receive everything, ship nothing written here (a backup replica).")
    var isReadOnly = false

    @Option(
        name: .customLong("state-dir"),
        help: ArgumentHelp("Folder for the node id and progress (default: ROOT/.muse/sync).", valueName: "dir")
    )
    var stateDirectory: String?

    @Option(
        name: .customLong("config"),
        help: ArgumentHelp(
            "A YAML file of settings (every key: Config/oplog-sync.yaml); OPLOG_SYNC_* environment variables override it, options override both. Unknown keys are errors.",
            valueName: "file"
        )
    )
    var configFile: String?

    @Flag(
        inversion: .prefixedNo,
        help:
            "fdatasync remote entries before acknowledging them (default on; --no-fsync is faster, and a power loss can lose acknowledged entries)."
    )
    var fsync: Bool?

    @Option(
        name: .customLong("hold-seconds"),
        help: ArgumentHelp(
            "How long an entry whose parents are missing waits before it is written anyway (default 10).",
            valueName: "seconds"
        )
    )
    var holdSeconds: Double?

    @Option(
        name: .customLong("stale-tail-seconds"),
        help: ArgumentHelp(
            "How long an unfinished last line must be unchanged to count as abandoned (default 10).",
            valueName: "seconds"
        )
    )
    var staleTailSeconds: Double?

    @Option(
        name: .customLong("forwarding"),
        help: ArgumentHelp(
            "tree (default: each entry crosses the network about once per node) or flood (every entry to every peer; kept to measure the tree against).",
            valueName: "policy"
        )
    )
    var forwarding: String?

    @Option(
        name: .customLong("log-level"),
        help: ArgumentHelp("trace, debug, info, notice, warning, error or critical (default info).", valueName: "level")
    )
    var logLevel: String?

    @Option(
        name: .customLong("log-format"),
        help: ArgumentHelp("text, or json: one JSON object per line (default text).", valueName: "format")
    )
    var logFormat: String?

    @Flag(
        name: .customLong("check"),
        help:
            "Check the command line, environment and config file, print the effective settings and where each came from, and exit without starting."
    )
    var isCheckOnly = false

    func validate() throws {
        if let configFile, configFile.isEmpty { throw ValidationError("--config must not be empty") }
        if let stateDirectory, stateDirectory.isEmpty { throw ValidationError("--state-dir must not be empty") }
        if self.nodeID != nil { throw ValidationError(Self.retiredNodeIDMessage("--node-id")) }
        do {
            if let listen { _ = try PeerAddress(parsing: listen) }
            for peer in self.peers { _ = try PeerConfiguration(parsing: peer, origin: "--peer") }
            for id in self.accepted { _ = try PeerConfiguration.parseID(id, origin: "--accept") }
            if let http { _ = try Self.controlAddress(http) }
        } catch {
            throw ValidationError(error.message)
        }
    }

    func run() async throws {
        var isDirectory = stat()
        guard stat(self.rootOptions.root, &isDirectory) == 0, (isDirectory.st_mode & S_IFMT) == S_IFDIR else {
            throw ValidationError("root \(self.rootOptions.root) is not a folder")
        }
        let settings: AgentSettings
        do {
            settings = try await AgentSettings.read(
                options: self.settingOptions,
                configFile: self.configFile.map { FilePath($0) },
                environment: ProcessInfo.processInfo.environment
            )
        } catch {
            throw ValidationError(error.message)
        }
        let configuration: AgentConfiguration
        let level: Logger.Level
        let format: LogFormat
        let http: PeerAddress?
        do {
            (configuration, level) = try self.configuration(settings)
            format = try Self.logFormat(settings.logFormat ?? "text")
            http = try Self.controlAddress(settings.http ?? "127.0.0.1:7421")
        } catch {
            throw ValidationError(error.message)
        }

        if self.isCheckOnly {
            self.printEffectiveSettings(configuration, level: level, format: format, http: http, settings: settings)
            return
        }
        if let http {
            do {
                try await ControlEndpoint.checkAvailable(http)
            } catch {
                throw RuntimeFailure(error.message)
            }
        }
        var logger = Logger(label: "oplog-sync") { label in format.handler(label: label, level: level) }
        logger.logLevel = level
        let board = StatusBoard()
        let metrics = MetricsRegistry()
        var services: [any Service] = []
        if let http {
            services.append(
                ControlEndpoint(
                    address: http,
                    board: board,
                    metrics: metrics,
                    version: OpLogSyncVersion.number,
                    logger: logger
                ) { address in
                    var output = StandardOutput()
                    output.writeLine("http on \(address)")
                    output.flush()
                }
            )
        }
        let agent = ReplicationNode(
            configuration: configuration,
            logger: logger,
            statusBoard: board,
            metricsFactory: metrics.factory,
            services: services
        ) { address in
            var output = StandardOutput()
            output.writeLine("listening on \(address)")
            output.flush()
        }
        var groupLogger = logger
        groupLogger.logLevel = .warning
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [.init(service: agent, successTerminationBehavior: .gracefullyShutdownGroup)],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: groupLogger
            )
        )
        do {
            try await group.run()
        } catch let error as AgentError where error.code == .invalidConfiguration {
            throw ValidationError(error.message)
        } catch let error as AgentError {
            throw RuntimeFailure(error.message)
        } catch let error as ControlError {
            throw RuntimeFailure(error.message)
        }
    }

    /// The control endpoint's address, or `nil` for `off`.
    private static func controlAddress(_ text: String) throws(AgentError) -> PeerAddress? {
        guard text != "off" else { return nil }
        do {
            return try PeerAddress(parsing: text)
        } catch {
            throw AgentError(code: .invalidAddress, message: "--http \(error.message) (or off)", cause: error)
        }
    }

    /// `--check`'s report on stdout: one line per setting, `key value (source)`, the source
    /// being `option`, `environment OPLOG_SYNC_…`, `config file …` or `default`.
    private func printEffectiveSettings(
        _ configuration: AgentConfiguration,
        level: Logger.Level,
        format: LogFormat,
        http: PeerAddress?,
        settings: AgentSettings
    ) {
        func source(_ key: String) -> String { settings.origins[key] ?? "default" }
        let peers = configuration.peers.map { peer in
            var text = peer.description
            if let sessions = peer.rules.sessions { text += " sessions=\(sessions.map(\.text).joined(separator: ","))" }
            if !peer.rules.isReceiving { text += " receive=false" }
            return text
        }
        let rows: [(String, String, String)] = [
            ("root", self.rootOptions.root, "option"),
            ("listen", "\(configuration.listen)", source("listen")),
            ("http", http.map { "\($0)" } ?? "off", source("http")),
            (
                "peers", peers.isEmpty ? "none" : peers.joined(separator: "; "),
                source("peers")
            ),
            (
                "accept",
                configuration.accepted.isEmpty
                    ? "none" : configuration.accepted.map(\.description).joined(separator: ", "),
                source("accept")
            ),
            ("read_only", "\(configuration.isReadOnly)", source("read_only")),
            ("state_dir", configuration.stateDirectory.string, source("state_dir")),
            ("fsync", "\(configuration.synchronizeWrites)", source("fsync")),
            (
                "hold_seconds", Self.seconds(configuration.engine.holdTimeout),
                source("hold_seconds")
            ),
            (
                "stale_tail_seconds", Self.seconds(configuration.staleTailAge),
                source("stale_tail_seconds")
            ),
            ("forwarding", configuration.engine.forwarding.isTree ? "tree" : "flood", source("forwarding")),
            ("log_level", level.rawValue, source("log_level")),
            ("log_format", format.rawValue, source("log_format")),
        ]
        let width = rows.map(\.0.count).max() ?? 0
        var output = StandardOutput()
        for (key, value, origin) in rows {
            output.writeLine(key.padding(toLength: width + 2, withPad: " ", startingAt: 0) + "\(value)  (\(origin))")
        }
        output.flush()
    }

    private static func logFormat(_ name: String) throws(AgentError) -> LogFormat {
        guard let format = LogFormat(rawValue: name) else {
            throw AgentError(code: .invalidConfiguration, message: "log format \(name) is not text or json")
        }
        return format
    }

    private static func seconds(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        let value = Double(seconds) + Double(attoseconds) / 1e18
        return value == value.rounded() ? "\(Int64(value))" : "\(value)"
    }

    /// The one line refusing a node id given by hand.
    private static func retiredNodeIDMessage(_ origin: String) -> String {
        "\(origin) is no longer supported: a node's ID is its identity's now; `oplog-sync id` prints it"
    }

    /// The settings given as options, for ``AgentSettings/read(options:configFile:environment:)``,
    /// which ranks them above the environment and the file.
    private var settingOptions: [String: ConfigContent] {
        var options: [String: ConfigContent] = [:]
        options["listen"] = self.listen.map { .string($0) }
        options["peers"] = self.peers.isEmpty ? nil : .stringArray(self.peers)
        options["accept"] = self.accepted.isEmpty ? nil : .stringArray(self.accepted)
        options["read_only"] = self.isReadOnly ? .bool(true) : nil
        options["state_dir"] = self.stateDirectory.map { .string($0) }
        options["fsync"] = self.fsync.map { .bool($0) }
        options["hold_seconds"] = self.holdSeconds.map { .double($0) }
        options["stale_tail_seconds"] = self.staleTailSeconds.map { .double($0) }
        options["forwarding"] = self.forwarding.map { .string($0) }
        options["log_level"] = self.logLevel.map { .string($0) }
        options["log_format"] = self.logFormat.map { .string($0) }
        options["http"] = self.http.map { .string($0) }
        return options
    }

    /// The settings checked, with the defaults for those not given.
    private func configuration(_ settings: AgentSettings) throws(AgentError) -> (AgentConfiguration, Logger.Level) {
        var configuration = AgentConfiguration(root: FilePath(self.rootOptions.root))
        if let listen = settings.listen {
            configuration.listen = try PeerAddress(parsing: listen)
        }
        if settings.retiredNodeID != nil {
            throw AgentError(code: .invalidConfiguration, message: Self.retiredNodeIDMessage("config node_id"))
        }
        configuration.peers = try settings.peerConfigurations() ?? []
        configuration.accepted = try settings.acceptedIDs() ?? []
        if let stateDirectory = settings.stateDirectory {
            configuration.stateDirectory = FilePath(stateDirectory)
        }
        configuration.isReadOnly = settings.isReadOnly ?? false
        configuration.synchronizeWrites = settings.synchronizeWrites ?? true
        let holdSeconds = settings.holdSeconds ?? 10
        guard holdSeconds.isFinite, (0...86_400).contains(holdSeconds) else {
            throw AgentError(code: .invalidConfiguration, message: "hold seconds must be between 0 and 86400")
        }
        configuration.engine.holdTimeout = .milliseconds(Int64(holdSeconds * 1000))
        let staleTailSeconds = settings.staleTailSeconds ?? 10
        guard staleTailSeconds.isFinite, (0...86_400).contains(staleTailSeconds) else {
            throw AgentError(code: .invalidConfiguration, message: "stale tail seconds must be between 0 and 86400")
        }
        configuration.staleTailAge = .milliseconds(Int64(staleTailSeconds * 1000))
        switch settings.forwarding ?? "tree" {
        case "tree": configuration.engine.forwarding = .tree
        case "flood": configuration.engine.forwarding = .flood
        case let other:
            throw AgentError(code: .invalidConfiguration, message: "forwarding \(other) is not one of tree, flood")
        }
        let levelName = settings.logLevel ?? "info"
        guard let level = Logger.Level(rawValue: levelName) else {
            throw AgentError(
                code: .invalidConfiguration,
                message: "log level \(levelName) is not one of trace, debug, info, notice, warning, error, critical"
            )
        }
        return (configuration, level)
    }
}

/// A runtime failure with a one-line message (exit status 1).
struct RuntimeFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
