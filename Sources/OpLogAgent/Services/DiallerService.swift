import Logging
import NIOCore
import NIOPosix
import OpLogIdentity
import OpLogReplication
import OpLogWire
import ServiceLifecycle

/// Keeps one link up to every configured peer with an address: one task per peer, each
/// redialling with exponential backoff and jitter (``Backoff``) and pinning the peer's ID in the
/// TLS handshake (an address answering with another ID links to nothing); while the peer is
/// connected through another link (it dialled us), the task waits for that link to go instead
/// of dialling.
///
/// On graceful shutdown every task stops and its connection is closed.
struct DiallerService: Service {
    let peers: [PeerConfiguration]
    let security: LinkSecurity
    let core: AgentCore
    let hello: Hello
    let wire: WireConfiguration
    let redialInitialDelay: Duration
    let redialMaximumDelay: Duration
    /// Seeds each task's jitter (the peer's index is added) for replayable tests; `nil` uses
    /// the system's generator.
    let seed: UInt64?
    let logger: Logger

    func run() async throws {
        guard !self.peers.isEmpty else {
            // Nothing to dial; stay until the node stops, like every other service.
            try? await gracefulShutdown()
            return
        }
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { tasks in
                for (index, peer) in self.peers.enumerated() {
                    guard let address = peer.address else { continue }
                    let jitter: JitterSource =
                        self.seed.map { .seeded(SplitMix64(seed: $0 &+ UInt64(index))) } ?? .system
                    tasks.addTask { await self.keepLinked(peer.id, at: address, jitter: jitter) }
                }
            }
        }
    }

    private func keepLinked(_ id: NodeFingerprint, at address: PeerAddress, jitter: JitterSource) async {
        var backoff = Backoff(initial: self.redialInitialDelay, maximum: self.redialMaximumDelay, generator: jitter)
        var knownPeer: NodeID?
        var failures = 0
        while !Task.isCancelled {
            if let peer = knownPeer {
                // Linked through a connection the peer dialled: wait for it to go.
                for await isConnected in await self.core.connectionStates(of: peer) where !isConnected { break }
                guard !Task.isCancelled else { return }
            }
            do {
                let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                    .connectTimeout(.seconds(5))
                    .channelOption(.socketOption(.tcp_nodelay), value: 1)
                    .channelOption(.autoRead, value: false)
                    .connect(host: address.host, port: address.port) { channel in
                        LinkPipeline.initialize(
                            channel,
                            direction: .dialled(id),
                            security: self.security,
                            wire: self.wire
                        )
                    }
                failures = 0
                let connection: LinkPipeline.Adopted
                do {
                    connection = try await LinkPipeline.adopt(channel.channel)
                } catch {
                    channel.channel.close(promise: nil)
                    throw error
                }
                if let peer = await PeerConnection.run(
                    connection,
                    admission: channel.admission,
                    tls: self.security.tls,
                    dialled: address,
                    core: self.core,
                    hello: self.hello,
                    logger: self.logger
                ) {
                    knownPeer = peer
                    backoff.reset()
                }
            } catch {
                failures += 1
                self.logger.log(
                    level: failures == 1 ? .info : .debug,
                    "cannot reach peer: \(PeerConnection.describe(error))",
                    metadata: ["address": "\(address)", "attempt": "\(failures)"]
                )
            }
            guard !Task.isCancelled else { return }
            try? await Task.sleep(for: backoff.next())
        }
    }
}
