import Logging
import NIOCore
import OpLogIdentity
import OpLogWire
import ServiceLifecycle

/// Accepts peers' connections on the bound listening socket and serves each until it closes.
///
/// On graceful shutdown it stops accepting and ends every connection it serves (the core's
/// writes are finished after, by ``ReplicatorService``). A listener that stops on its own
/// (the socket failed) is an error: the node stops rather than run unreachable. While it accepts,
/// the status says so (``NodeStatus/Health/isListening``).
struct ListenerService: Service {
    let server: NIOAsyncChannel<LinkPipeline.Connection, Never>
    /// The node's TLS, for the pair key of each link.
    let tls: LinkTLS
    let core: AgentCore
    let hello: Hello
    let logger: Logger

    func run() async throws {
        let failure: (any Error)? = await cancelWhenGracefulShutdown {
            do {
                try await self.server.executeThenClose { connections in
                    await self.core.listenerRuns(true)
                    try await withThrowingDiscardingTaskGroup { children in
                        for try await accepted in connections {
                            children.addTask { await self.serve(accepted) }
                        }
                    }
                }
                return nil
            } catch {
                return error
            }
        }
        await self.core.listenerRuns(false)
        guard !Task.isShuttingDownGracefully, !Task.isCancelled else { return }
        self.logger.error(
            "listener stopped; stopping the node",
            metadata: ["error": "\(failure.map { "\($0)" } ?? "closed")"]
        )
        throw AgentError(
            code: .listen,
            message: "the listener stopped: \(failure.map(PeerConnection.describe) ?? "its socket closed")"
        )
    }

    private func serve(_ accepted: LinkPipeline.Connection) async {
        let connection: LinkPipeline.Adopted
        do {
            connection = try await LinkPipeline.adopt(accepted.channel)
        } catch {
            self.logger.debug("accepted connection closed before it was served: \(error)")
            accepted.channel.close(promise: nil)
            return
        }
        _ = await PeerConnection.run(
            connection,
            admission: accepted.admission,
            tls: self.tls,
            dialled: nil,
            core: self.core,
            hello: self.hello,
            logger: self.logger
        )
    }
}
