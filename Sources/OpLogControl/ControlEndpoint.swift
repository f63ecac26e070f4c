import Hummingbird
public import Logging
import NIOCore
import NIOPosix
public import OpLogAgent
public import ServiceLifecycle
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The control endpoint (DESIGN §8): an HTTP/1.1 server (hummingbird) serving
/// ``ControlRoutes`` from a node's `StatusBoard` and ``MetricsRegistry``, as a `Service` in the
/// node's service group.
///
/// It binds when it starts and reports `HOST:PORT` as bound (the port the system chose, for
/// port 0) through `onServing`. A graceful shutdown stops accepting and lets requests in flight
/// finish. It carries no authentication: keep it on loopback unless the network is trusted.
public struct ControlEndpoint: Service {
    public let address: PeerAddress
    private let board: StatusBoard
    private let metrics: MetricsRegistry
    private let version: String
    private let logger: Logger
    private let onServing: @Sendable (String) -> Void

    /// - Parameters:
    ///   - address: where to listen (`127.0.0.1:7421` by default in the CLI; port 0 picks one).
    ///   - board: the node's status board, read on every request.
    ///   - metrics: the node's registry, emitted for `/metrics`.
    ///   - version: the version `/status` reports.
    ///   - logger: where the server logs.
    ///   - onServing: called once with `HOST:PORT` as bound, when the endpoint serves.
    public init(
        address: PeerAddress,
        board: StatusBoard,
        metrics: MetricsRegistry,
        version: String,
        logger: Logger,
        onServing: @escaping @Sendable (String) -> Void = { _ in }
    ) {
        self.address = address
        self.board = board
        self.metrics = metrics
        self.version = version
        self.logger = logger
        self.onServing = onServing
    }

    /// Serves until a graceful shutdown or cancellation.
    /// - Throws: ``ControlError`` `.bind` when the address cannot be bound (a busy port), or
    ///   `.serve` when the server fails later.
    public func run() async throws {
        let isServing = Atomic<Bool>(false)
        let address = self.address
        let onServing = self.onServing
        let application = Application(
            router: ControlRoutes.router(board: self.board, metrics: self.metrics, version: self.version),
            configuration: ApplicationConfiguration(address: .hostname(address.host, port: address.port)),
            onServerRunning: { channel in
                isServing.store(true, ordering: .relaxed)
                onServing("\(PeerAddress(host: address.host, port: channel.localAddress?.port ?? address.port))")
            },
            logger: self.logger
        )
        do {
            try await application.run()
        } catch is CancellationError {
            return
        } catch {
            guard isServing.load(ordering: .relaxed) else {
                throw ControlError(
                    code: .bind,
                    message: "cannot serve http on \(address): \(Self.describe(error))",
                    cause: error
                )
            }
            throw ControlError(
                code: .serve,
                message: "the control endpoint on \(address) stopped: \(Self.describe(error))",
                cause: error
            )
        }
    }

    /// Checks that `address` can be bound now, by binding it (as the endpoint will) and closing
    /// it again: so that a busy port stops `oplog-sync run` before the node starts, with one
    /// line. ``run()`` still reports a port taken in between.
    /// - Throws: ``ControlError`` `.bind`, with the system's words (`address already in use`).
    public static func checkAvailable(_ address: PeerAddress) async throws(ControlError) {
        do {
            let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .bind(host: address.host, port: address.port)
                .get()
            try await channel.close()
        } catch {
            throw ControlError(
                code: .bind,
                message: "cannot serve http on \(address): \(Self.describe(error))",
                cause: error
            )
        }
    }

    /// A socket error as the system's words (`address already in use`), anything else as it
    /// describes itself.
    static func describe(_ error: any Error) -> String {
        if let error = error as? IOError { return error.systemDescription }
        return "\(error)"
    }
}

extension IOError {
    /// `strerror`'s text for the error number, in lower case.
    var systemDescription: String {
        String(cString: strerror(self.errnoCode)).lowercased()
    }
}
