import Logging
import OpLog
import OpLogWatch
import ServiceLifecycle

/// Feeds the core every batch of changes inotify reports under `op_log/`, the first being a
/// full scan.
///
/// The watcher is essential: should it stop (inotify failed), the node stops with an error
/// instead of running blind, since nothing written locally would be shipped any more. While it
/// runs, the status says so (``NodeStatus/Health/isWatching``).
struct SessionWatcherService: Service {
    let layout: OpLogLayout
    let core: AgentCore
    let logger: Logger

    func run() async throws {
        await self.core.watcherRuns(true)
        let failure: (any Error)? = await cancelWhenGracefulShutdown {
            do {
                try await OpLogWatcher(layout: self.layout, logger: self.logger).run { changes in
                    await self.core.localChanges(changes)
                }
                return nil
            } catch is CancellationError {
                return nil
            } catch {
                return error
            }
        }
        await self.core.watcherRuns(false)
        guard !Task.isShuttingDownGracefully, !Task.isCancelled else { return }
        let reason = failure.map { "\($0)" } ?? "it returned"
        self.logger.critical("watcher stopped; stopping the node", metadata: ["error": "\(reason)"])
        throw AgentError(code: .watcher, message: "the session watcher stopped: \(reason)")
    }
}
