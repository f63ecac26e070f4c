public import Logging
import NIOCore
import NIOPosix
import OpLog
import OpLogReplication
import OpLogWatch
import OpLogWire
public import ServiceLifecycle

/// `oplog-sync run`: replicates every session under the root with the configured peers until
/// it is cancelled or asked to shut down gracefully.
///
/// Started, it records its node id in the state folder, listens (and reports
/// `listening on HOST:PORT` through `onListening` once it accepts connections), watches the op
/// logs with inotify, dials every peer and keeps redialling with backoff and jitter. On a
/// graceful shutdown it stops accepting, dialling and watching, lets the write in progress
/// finish (every write is complete and durable before its acknowledgement), closes its links
/// and returns.
public struct ReplicationAgent: Service {
    public let configuration: AgentConfiguration
    private let logger: Logger
    private let onListening: @Sendable (String) -> Void

    public init(
        configuration: AgentConfiguration,
        logger: Logger,
        onListening: @escaping @Sendable (String) -> Void = { _ in }
    ) {
        self.configuration = configuration
        self.logger = logger
        self.onListening = onListening
    }

    public func run() async throws {
        let wire = WireConfiguration(
            maximumFrameSize: self.configuration.maximumFrameSize,
            keepaliveInterval: self.configuration.keepaliveInterval,
            idleTimeout: self.configuration.idleTimeout
        )
        let group = MultiThreadedEventLoopGroup.singleton
        let listen = self.configuration.listen
        let server: NIOAsyncChannel<any Channel, Never>
        do {
            server = try await ServerBootstrap(group: group)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                // Nothing is read from an accepted connection until the task that serves it
                // takes it (``adopt(_:)``).
                .childChannelOption(.autoRead, value: false)
                .bind(host: listen.host, port: listen.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try WirePipeline.configure(channel.pipeline.syncOperations, configuration: wire)
                        return channel
                    }
                }
        } catch {
            throw AgentError("cannot listen on \(listen): \(PeerConnection.describe(error))")
        }
        // Bound first, so a busy port fails before anything is created or read.
        let nodeID: NodeID
        let core: AgentCore
        do {
            nodeID = NodeID(try NodeIdentity.load(configuration: self.configuration))
            do {
                try self.configuration.layout.createOpLogDirectory()
            } catch {
                throw AgentError("cannot use \(self.configuration.layout.opLogPath): \(error.message)")
            }
        } catch {
            try? await server.channel.close()
            throw error
        }
        let hello = Hello(nodeID: nodeID.rawValue, isReadOnly: self.configuration.isReadOnly)
        let logger = {
            var logger = self.logger
            logger[metadataKey: "node"] = "\(nodeID)"
            return logger
        }()
        core = AgentCore(configuration: self.configuration, nodeID: nodeID, logger: logger)
        do {
            try await core.start()
        } catch {
            try? await server.channel.close()
            throw error
        }
        let bound = server.channel.localAddress?.port.map { PeerAddress(host: listen.host, port: $0) } ?? listen
        logger.info(
            "replicating",
            metadata: [
                "root": "\(self.configuration.layout.root)", "listen": "\(bound)",
                "peers": "\(self.configuration.peers.map(\.description).joined(separator: ","))",
                "read_only": "\(self.configuration.isReadOnly)", "fsync": "\(self.configuration.synchronizeWrites)",
            ]
        )
        self.onListening("\(bound)")

        await withDiscardingTaskGroup { tasks in
            tasks.addTask {
                await Self.watch(layout: self.configuration.layout, core: core, logger: logger)
            }
            tasks.addTask { await core.runSyncs() }
            tasks.addTask { await core.runProgressSaves() }
            tasks.addTask {
                while !Task.isCancelled {
                    try? await Task.sleep(for: .milliseconds(100))
                    await core.tick()
                }
            }
            for peer in self.configuration.peers {
                tasks.addTask {
                    await self.dial(peer, core: core, hello: hello, wire: wire, logger: logger)
                }
            }
            tasks.addTask {
                do {
                    try await server.executeThenClose { connections in
                        try await withThrowingDiscardingTaskGroup { children in
                            for try await accepted in connections {
                                children.addTask {
                                    let connection: NIOAsyncChannel<WireMessage, WireMessage>
                                    do {
                                        connection = try await Self.adopt(accepted)
                                    } catch {
                                        logger.debug("accepted connection closed before it was served: \(error)")
                                        accepted.close(promise: nil)
                                        return
                                    }
                                    _ = await PeerConnection.run(
                                        connection,
                                        isDialer: false,
                                        core: core,
                                        hello: hello,
                                        logger: logger
                                    )
                                }
                            }
                        }
                    }
                } catch {
                    logger.debug("listener closed: \(error)")
                }
            }
            // Returns on SIGTERM/SIGINT (through the service group) or when cancelled.
            try? await gracefulShutdown()
            logger.info("shutting down")
            server.channel.close(promise: nil)
            await core.closeAllLinks()
            await core.finishWrites()
            tasks.cancelAll()
        }
        await core.saveProgress(ifOlderThan: .zero)
        let statistics = await core.statistics
        logger.info(
            "stopped",
            metadata: [
                "written": "\(statistics.entriesWritten)", "shipped": "\(statistics.entriesShipped)",
                "rejected": "\(statistics.entriesRejected)",
            ]
        )
    }

    private static func wrap(
        _ channel: any Channel,
        wire: WireConfiguration
    ) -> EventLoopFuture<NIOAsyncChannel<WireMessage, WireMessage>> {
        channel.eventLoop.makeCompletedFuture {
            try WirePipeline.configure(channel.pipeline.syncOperations, configuration: wire)
            return try NIOAsyncChannel<WireMessage, WireMessage>(wrappingChannelSynchronously: channel)
        }
    }

    /// Wraps an accepted connection for async use and starts reading from it.
    ///
    /// This is done by the task that serves the connection, not in the bootstrap's child
    /// initializer: a connection wrapped there but accepted while the listener stops is never
    /// served, and NIO traps when such a wrapper is released unfinished (swift-nio#2637). A
    /// connection dropped before this point is a plain channel, closed at exit at the latest.
    private static func adopt(_ channel: any Channel) async throws -> NIOAsyncChannel<WireMessage, WireMessage> {
        let connection = try await channel.eventLoop.submit {
            try NIOAsyncChannel<WireMessage, WireMessage>(wrappingChannelSynchronously: channel)
        }.get()
        do {
            try await channel.setOption(.autoRead, value: true).get()
        } catch {
            try? await connection.executeThenClose { _, _ in }
            throw error
        }
        return connection
    }

    /// Feeds the core every batch of changes the watcher reports, the first being a full scan.
    private static func watch(layout: OpLogLayout, core: AgentCore, logger: Logger) async {
        do {
            try await OpLogWatcher(layout: layout).run { changes in
                await core.localChanges(changes)
            }
        } catch is CancellationError {
        } catch {
            logger.critical("watcher stopped: \(error)")
        }
    }

    /// Keeps one connection to `address` up, redialling with exponential backoff and jitter;
    /// while the peer is connected through another link (it dialled us), waits instead.
    private func dial(
        _ address: PeerAddress,
        core: AgentCore,
        hello: Hello,
        wire: WireConfiguration,
        logger: Logger
    ) async {
        var delay = self.configuration.redialInitialDelay
        var knownPeer: NodeID?
        var failures = 0
        while !Task.isCancelled {
            if let peer = knownPeer, await core.isConnected(peer) {
                try? await Task.sleep(for: .milliseconds(250))
                continue
            }
            do {
                let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                    .connectTimeout(.seconds(5))
                    .channelOption(.socketOption(.tcp_nodelay), value: 1)
                    .connect(host: address.host, port: address.port) { channel in
                        Self.wrap(channel, wire: wire)
                    }
                failures = 0
                if let peer = await PeerConnection.run(
                    channel,
                    isDialer: true,
                    core: core,
                    hello: hello,
                    logger: logger
                ) {
                    knownPeer = peer
                    delay = self.configuration.redialInitialDelay
                }
            } catch {
                failures += 1
                logger.log(
                    level: failures == 1 ? .info : .debug,
                    "cannot reach peer: \(PeerConnection.describe(error))",
                    metadata: ["address": "\(address)", "attempt": "\(failures)"]
                )
            }
            guard !Task.isCancelled else { return }
            let jitter = Double.random(in: 0...0.5)
            try? await Task.sleep(for: delay * (1 + jitter))
            delay = min(delay * 2, self.configuration.redialMaximumDelay)
        }
    }
}
