import NIOCore
import NIOPosix
import Synchronization

/// A TCP proxy on 127.0.0.1 between a dialling agent and the agent it dials, for partition
/// tests: it forwards bytes both ways unchanged, counts them, and can cut the link and heal it.
///
/// A cut closes every forwarded connection at once (both agents see it closed, as after a
/// reset) and, until ``heal()``, accepts each new connection only to close it: the dialler keeps
/// redialling with its backoff, as it would against an unreachable host, without waiting for a
/// TCP timeout. While the target is down, a connection to the proxy is closed the same way.
final class TCPProxy: Sendable {
    /// Bytes forwarded so far, per direction.
    struct ByteCounts: Sendable, Equatable, CustomStringConvertible {
        /// From the dialling agent to the target.
        var towardTarget = 0
        /// From the target back to the dialling agent.
        var fromTarget = 0

        var total: Int { self.towardTarget + self.fromTarget }

        static func - (later: ByteCounts, earlier: ByteCounts) -> ByteCounts {
            ByteCounts(towardTarget: later.towardTarget - earlier.towardTarget, fromTarget: later.fromTarget - earlier.fromTarget)
        }

        var description: String { "\(self.towardTarget) bytes toward the target, \(self.fromTarget) back" }
    }

    /// The port the proxy listens on.
    let port: Int
    private let targetHost: String
    private let targetPort: Int
    private let towardTarget = Atomic<Int>(0)
    private let fromTarget = Atomic<Int>(0)
    private let state = Mutex(State())
    private let isRecording: Bool

    private struct State {
        var isCut = false
        var isClosed = false
        var connections: [ObjectIdentifier: any Channel] = [:]
        var recordedTowardTarget: [UInt8] = []
        var recordedFromTarget: [UInt8] = []
    }

    private init(port: Int, targetHost: String, targetPort: Int, isRecording: Bool) {
        self.port = port
        self.targetHost = targetHost
        self.targetPort = targetPort
        self.isRecording = isRecording
    }

    /// Every byte forwarded each way, when the proxy records (``run(forwardingTo:recordsBytes:_:)``).
    var recorded: (towardTarget: [UInt8], fromTarget: [UInt8]) {
        self.state.withLock { ($0.recordedTowardTarget, $0.recordedFromTarget) }
    }

    /// `127.0.0.1:PORT`, for an agent's `--peer`.
    var address: String { "127.0.0.1:\(self.port)" }

    /// The bytes forwarded since the proxy started.
    var bytes: ByteCounts {
        ByteCounts(towardTarget: self.towardTarget.load(ordering: .relaxed), fromTarget: self.fromTarget.load(ordering: .relaxed))
    }

    /// Whether a connection is being forwarded right now.
    var hasOpenConnections: Bool { self.state.withLock { !$0.connections.isEmpty } }

    /// Closes every forwarded connection and refuses to forward new ones until ``heal()``.
    func cut() {
        let open = self.state.withLock { state in
            state.isCut = true
            return Array(state.connections.values)
        }
        for channel in open { channel.close(promise: nil) }
    }

    /// Forwards new connections again.
    func heal() {
        self.state.withLock { $0.isCut = false }
    }

    /// Waits (at most `timeout`) until no byte has been forwarded for `quietPeriod`, so that
    /// counts read afterwards include a catch-up that goes on after the files agree (a sender
    /// still offering entries the receiver drops as known); returns the counts then.
    ///
    /// - Throws: ``ConditionTimedOut`` when bytes keep flowing until `timeout`.
    func waitUntilQuiet(quietPeriod: Duration = .seconds(2), timeout: Duration = .seconds(60)) async throws -> ByteCounts {
        var last = self.bytes
        var lastChange = ContinuousClock.now
        try await waitFor("the proxied link to fall quiet", timeout: timeout, pollInterval: .milliseconds(100)) {
            let now = self.bytes
            if now != last {
                last = now
                lastChange = ContinuousClock.now
            }
            return ContinuousClock.now - lastChange >= quietPeriod ? nil : "\(now) so far, still changing"
        }
        return last
    }

    // MARK: Forwarding

    fileprivate typealias Connection = NIOAsyncChannel<ByteBuffer, ByteBuffer>

    private static func wrap(_ channel: any Channel) -> EventLoopFuture<Connection> {
        channel.eventLoop.makeCompletedFuture {
            try Connection(wrappingChannelSynchronously: channel)
        }
    }

    /// Accepts connections and forwards each until the listener closes.
    ///
    /// Accepted connections arrive unread and unwrapped (`autoRead` off) and are wrapped by the
    /// task that forwards them: NIO traps when a wrapped connection is released without being
    /// served, which a listener closed with connections queued would otherwise do.
    private func serve(_ listener: NIOAsyncChannel<any Channel, Never>) async {
        try? await listener.executeThenClose { connections in
            try await withThrowingDiscardingTaskGroup { group in
                for try await accepted in connections {
                    group.addTask { await self.forward(accepted) }
                }
            }
        }
    }

    /// Dials the target for one accepted connection and copies bytes both ways until either
    /// side closes (or the link is cut); then closes both.
    private func forward(_ accepted: any Channel) async {
        guard !self.state.withLock({ $0.isCut || $0.isClosed }) else {
            try? await accepted.close()
            return
        }
        let client: Connection
        let target: Connection
        do {
            client = try await accepted.eventLoop.submit { try Connection(wrappingChannelSynchronously: accepted) }.get()
        } catch {
            try? await accepted.close()
            return
        }
        do {
            try await accepted.setOption(.autoRead, value: true).get()
            target = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(.seconds(5))
                .connect(host: self.targetHost, port: self.targetPort) { Self.wrap($0) }
        } catch {
            try? await client.executeThenClose { _, _ in }
            return
        }
        let channels: [any Channel] = [client.channel, target.channel]
        let isForwarding = self.state.withLock { state in
            guard !state.isCut, !state.isClosed else { return false }
            for channel in channels { state.connections[ObjectIdentifier(channel)] = channel }
            return true
        }
        defer {
            self.state.withLock { state in
                for channel in channels { state.connections[ObjectIdentifier(channel)] = nil }
            }
        }
        guard isForwarding else {
            // Closed through executeThenClose: a wrapped connection released unfinished traps.
            try? await client.executeThenClose { _, _ in }
            try? await target.executeThenClose { _, _ in }
            return
        }
        try? await client.executeThenClose { clientInbound, clientOutbound in
            try await target.executeThenClose { targetInbound, targetOutbound in
                await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        for try await buffer in clientInbound {
                            self.towardTarget.add(buffer.readableBytes, ordering: .relaxed)
                            if self.isRecording {
                                self.state.withLock { $0.recordedTowardTarget += buffer.readableBytesView }
                            }
                            try await targetOutbound.write(buffer)
                        }
                    }
                    group.addTask {
                        for try await buffer in targetInbound {
                            self.fromTarget.add(buffer.readableBytes, ordering: .relaxed)
                            if self.isRecording {
                                self.state.withLock { $0.recordedFromTarget += buffer.readableBytesView }
                            }
                            try await clientOutbound.write(buffer)
                        }
                    }
                    // One side closed (or failed): close both, which ends the other copy too.
                    _ = try? await group.next()
                    for channel in channels { channel.close(promise: nil) }
                    group.cancelAll()
                }
            }
        }
    }

    /// Closes the listener and every forwarded connection.
    private func close(_ listener: any Channel) {
        let open = self.state.withLock { state in
            state.isClosed = true
            return Array(state.connections.values)
        }
        listener.close(promise: nil)
        for channel in open { channel.close(promise: nil) }
    }

    /// Runs `body` with a proxy listening on a free port of 127.0.0.1 that forwards to
    /// `targetPort` there; the proxy and its connections are closed when `body` returns. With
    /// `recordsBytes`, it also keeps every byte it forwards (``recorded``).
    static func run<T>(
        forwardingTo targetPort: Int,
        recordsBytes: Bool = false,
        isolation: isolated (any Actor)? = #isolation,
        _ body: (TCPProxy) async throws -> T
    ) async throws -> T {
        let listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.autoRead, value: false)
            .bind(host: "127.0.0.1", port: 0) { $0.eventLoop.makeSucceededFuture($0) }
        guard let port = listener.channel.localAddress?.port else {
            try? await listener.channel.close()
            throw AgentFailure("the proxy's listener has no port")
        }
        let proxy = TCPProxy(port: port, targetHost: "127.0.0.1", targetPort: targetPort, isRecording: recordsBytes)
        let serving = Task { await proxy.serve(listener) }
        defer {
            proxy.close(listener.channel)
            serving.cancel()
        }
        let value = try await body(proxy)
        proxy.close(listener.channel)
        await serving.value
        return value
    }
}
