public import CoreMetrics
public import Logging
import NIOCore
import NIOPosix
import OpLog
import OpLogIdentity
import OpLogReplication
import OpLogWire
public import ServiceLifecycle
import Synchronization

/// `oplog-sync run`: replicates every session under the root with the configured peers until
/// it is cancelled or asked to shut down gracefully.
///
/// Started, it binds its listening socket (a busy port fails before anything is created or
/// read), loads its identity from the state folder (``IdentityStore/loadOrCreate(now:)``:
/// made on the first start; a broken one stops the node with its one-line error), whose node
/// ID is the node's id, builds the TLS contexts once (``LinkTLS``), indexes every session, reports
/// `listening on HOST:PORT` through `onListening`, and then runs as a group of services with
/// one job each, in this order:
///
/// 1. ``ReplicatorService``: the core's ticker, syncs and progress records;
/// 2. ``SessionWatcherService``: inotify → the core (essential: if it stops, the node stops
///    with an error);
/// 3. ``ListenerService``: accepted connections;
/// 4. ``DiallerService``: one redialling task per configured peer;
/// 5. the services it was given (the control endpoint), which read the ``StatusBoard``.
///
/// A graceful shutdown stops them in reverse order: no more serving, dialling, accepting or watching,
/// then the core finishes the writes in progress (every write is complete and durable before
/// its acknowledgement), records progress and returns. Any service's failure stops the others
/// the same way and is thrown, so the process exits non-zero.
public struct ReplicationNode: Service {
    public let configuration: AgentConfiguration
    /// Where the node's ``NodeStatus`` is published while it runs.
    public let statusBoard: StatusBoard
    private let logger: Logger
    private let metricsFactory: any MetricsFactory
    private let services: [any Service]
    private let onListening: @Sendable (String) -> Void

    /// - Parameters:
    ///   - configuration: the node's settings.
    ///   - logger: where the node logs (the node's id is added to its metadata).
    ///   - statusBoard: where the node's status is published, from the end of its start on.
    ///   - metricsFactory: where the node's metrics are made (a registry of its own per node);
    ///     the default records nothing.
    ///   - services: run in the node's group once `onListening` was called, after the node's
    ///     own services, and shut down before them; a failure of one stops the node.
    ///   - onListening: called once with `HOST:PORT` as bound, when the node accepts links.
    public init(
        configuration: AgentConfiguration,
        logger: Logger,
        statusBoard: StatusBoard = StatusBoard(),
        metricsFactory: any MetricsFactory = NOOPMetricsHandler.instance,
        services: [any Service] = [],
        onListening: @escaping @Sendable (String) -> Void = { _ in }
    ) {
        self.configuration = configuration
        self.logger = logger
        self.statusBoard = statusBoard
        self.metricsFactory = metricsFactory
        self.services = services
        self.onListening = onListening
    }

    public func run() async throws {
        var wire = WireConfiguration(
            maximumFrameSize: self.configuration.links.maximumFrameSize,
            keepaliveInterval: self.configuration.links.keepaliveInterval,
            idleTimeout: self.configuration.links.idleTimeout
        )
        wire.maximumHelloSize = self.configuration.links.maximumHelloSize
        let securityOnceReady = SecurityOnceReady()
        let server = try await self.bind(wire: wire, security: securityOnceReady)
        let core: AgentCore
        let nodeID: NodeID
        let logger: Logger
        let bound: PeerAddress
        let security: LinkSecurity
        let book = AdmissionBook(
            maximumPending: self.configuration.links.maximumPendingPeers,
            logInterval: self.configuration.links.refusalLogInterval
        )
        do {
            let stateFolder = try StateFolder(
                opening: self.configuration.stateDirectory,
                opLogFolder: self.configuration.layout.opLogPath
            )
            let identity: Identity
            let tls: LinkTLS
            do {
                identity = try IdentityStore(stateFolder: self.configuration.stateDirectory).loadOrCreate()
                tls = try LinkTLS(identity: identity)
            } catch {
                throw AgentError(code: .stateFolder, message: error.message, cause: error)
            }
            try self.configuration.validatePeers(ownID: identity.nodeID)
            nodeID = identity.nodeID.nodeID
            do {
                try self.configuration.layout.createOpLogDirectory()
            } catch {
                throw AgentError(
                    code: .opLogFolder,
                    message: "cannot use \(self.configuration.layout.opLogPath): \(error.message)",
                    cause: error
                )
            }
            logger = {
                var logger = self.logger
                logger[metadataKey: "node"] = "\(nodeID)"
                return logger
            }()
            security = LinkSecurity(
                tls: tls,
                accepted: AcceptedPeers(Array(self.configuration.admittedIDs)),
                book: book,
                handshakeTimeout: self.configuration.links.handshakeTimeout,
                maximumUnadmitted: self.configuration.links.maximumUnadmittedConnections,
                logger: logger
            )
            let listen = self.configuration.listen
            bound = server.channel.localAddress?.port.map { PeerAddress(host: listen.host, port: $0) } ?? listen
            core = AgentCore(
                configuration: self.configuration,
                nodeID: nodeID,
                listen: bound,
                stateFolder: stateFolder,
                logger: logger,
                statusBoard: self.statusBoard,
                admissions: book,
                metricsFactory: self.metricsFactory
            )
            try await core.start()
            securityOnceReady.set(security)
        } catch {
            try? await server.channel.close()
            throw error
        }
        logger.info(
            "replicating",
            metadata: [
                "root": "\(self.configuration.layout.root)", "listen": "\(bound)",
                "peers": "\(self.configuration.peers.map(\.description).joined(separator: ","))",
                "accept": "\(self.configuration.accepted.map(\.description).joined(separator: ","))",
                "read_only": "\(self.configuration.isReadOnly)", "fsync": "\(self.configuration.synchronizeWrites)",
            ]
        )
        self.onListening("\(bound)")

        let hello = Hello(nodeID: nodeID.rawValue, isReadOnly: self.configuration.isReadOnly)
        let services: [any Service] =
            [
                ReplicatorService(core: core, tickInterval: .milliseconds(100), logger: logger),
                SessionWatcherService(layout: self.configuration.layout, core: core, logger: logger),
                ListenerService(server: server, tls: security.tls, core: core, hello: hello, logger: logger),
                DiallerService(
                    peers: self.configuration.peers,
                    security: security,
                    core: core,
                    hello: hello,
                    wire: wire,
                    redialInitialDelay: self.configuration.links.redialInitialDelay,
                    redialMaximumDelay: self.configuration.links.redialMaximumDelay,
                    seed: self.configuration.links.redialSeed,
                    logger: logger
                ),
            ] + self.services
        var groupLogger = logger
        groupLogger.logLevel = .warning
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: services.map {
                    .init(
                        service: $0,
                        successTerminationBehavior: .gracefullyShutdownGroup,
                        failureTerminationBehavior: .gracefullyShutdownGroup
                    )
                },
                logger: groupLogger
            )
        )
        try await withGracefulShutdownHandler {
            try await group.run()
        } onGracefulShutdown: {
            logger.info("shutting down")
        }
    }

    /// Binds the listening socket; accepted connections come out with their pipeline built and
    /// nothing read (see ``LinkPipeline``). Connections accepted before `security` is ready (the
    /// identity is loaded after the bind) are closed at once.
    private func bind(
        wire: WireConfiguration,
        security: SecurityOnceReady
    ) async throws(AgentError) -> NIOAsyncChannel<LinkPipeline.Connection, Never> {
        let listen = self.configuration.listen
        do {
            return try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                .childChannelOption(.autoRead, value: false)
                .bind(host: listen.host, port: listen.port) { channel in
                    guard let security = security.value else {
                        return channel.eventLoop.makeFailedFuture(
                            AgentError(code: .handshake, message: "not ready to admit peers yet")
                        )
                    }
                    return LinkPipeline.initialize(channel, direction: .accepted, security: security, wire: wire)
                }
        } catch {
            throw AgentError(
                code: .listen,
                message: "cannot listen on \(listen): \(PeerConnection.describe(error))",
                cause: error
            )
        }
    }
}

/// The node's ``LinkSecurity`` once its identity is loaded: the listener binds before that, and
/// its channel initializer reads this for every connection.
private final class SecurityOnceReady: Sendable {
    private let security = Mutex<LinkSecurity?>(nil)

    var value: LinkSecurity? { self.security.withLock { $0 } }

    func set(_ security: LinkSecurity) {
        self.security.withLock { $0 = security }
    }
}
