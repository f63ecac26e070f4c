import Logging
import OpLogReplication
import ServiceLifecycle

/// Runs the core's own work for the node's lifetime: the ticker (retransmissions, held entries,
/// progress records, catch-up lines, the status snapshot), the syncs of peers' lines and the
/// progress records on NIO's thread pool.
///
/// Listed first in the node's group, it is shut down last, once no link is left: it then waits
/// for the syncs in flight (what was acknowledged is durable), writes the last progress record
/// and logs the node's totals.
struct ReplicatorService: Service {
    let core: AgentCore
    let tickInterval: Duration
    let logger: Logger

    func run() async throws {
        await withDiscardingTaskGroup { tasks in
            tasks.addTask { await self.core.runSyncs() }
            tasks.addTask { await self.core.runProgressSaves() }
            tasks.addTask {
                while !Task.isCancelled {
                    try? await Task.sleep(for: self.tickInterval)
                    await self.core.tick()
                }
            }
            // Returns on graceful shutdown (or when cancelled).
            try? await gracefulShutdown()
            await self.core.closeAllLinks()
            await self.core.finishWrites()
            tasks.cancelAll()
        }
        await self.core.saveProgress(ifOlderThan: .zero)
        let statistics = await self.core.statistics
        self.logger.info(
            "stopped",
            metadata: [
                "written": "\(statistics.entriesWritten)", "shipped": "\(statistics.entriesShipped)",
                "rejected": "\(statistics.entriesRejected)",
            ]
        )
    }
}
