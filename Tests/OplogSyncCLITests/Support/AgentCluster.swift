import Foundation
import OpLogIdentity
import Synchronization
import Testing

/// The daemons one test starts, in one temporary folder (one subfolder per agent).
///
/// The agents are paired as DESIGN §7 asks a user to pair machines, with real identities and
/// real TLS: the cluster makes a pool of identities up front (``IdentityPool``), installs the
/// next one in each agent's state folder, starts every agent with `--accept` for every other
/// ID of the pool, and dials peers as `--peer ID@127.0.0.1:PORT`. A ``Membership/stranger``
/// gets an identity of its own that no other agent accepts, and accepts nobody.
final class AgentCluster: Sendable {
    /// Whether an agent belongs to the cluster's pool.
    enum Membership: Sendable {
        /// A pool identity; accepts every other pool ID.
        case member
        /// An identity of its own, accepted by nobody; accepts nobody.
        case stranger
    }

    let folder: TemporaryFolder
    let identities: IdentityPool
    private let agents = Mutex<[AgentProcess]>([])

    // `identityCount`: how many pool identities to make up front; every agent added before the
    // pool runs out accepts every one of them.
    init(folder: TemporaryFolder, identityCount: Int = 16) throws {
        self.folder = folder
        self.identities = try IdentityPool(initialCount: identityCount)
    }

    /// Starts an agent named `name` that dials `peers`, and waits until it listens.
    @discardableResult
    func start(
        _ name: String,
        peers: [AgentProcess] = [],
        isReadOnly: Bool = false,
        extraArguments: [String] = []
    ) async throws -> AgentProcess {
        let agent = try self.add(
            name,
            peers: try peers.map { try $0.peerArgument() },
            isReadOnly: isReadOnly,
            extraArguments: extraArguments
        )
        try await agent.start()
        return agent
    }

    /// Prepares an agent (its root and identity exist) without starting it; `peers` are
    /// `--peer` values, `ID@HOST:PORT` (``AgentProcess/peerArgument(via:)``).
    func add(
        _ name: String,
        peers: [String] = [],
        isReadOnly: Bool = false,
        membership: Membership = .member,
        extraArguments: [String] = []
    ) throws -> AgentProcess {
        let identity = membership == .member ? try self.identities.take() : try Identity.generate()
        let own = identity.nodeID.description
        let accepted = membership == .member ? self.identities.ids.filter { $0 != own } : []
        let agent = try AgentProcess(
            name: name,
            folder: self.folder.path(name),
            identity: identity,
            options: AgentProcess.Options(
                peers: peers,
                accepted: accepted,
                isReadOnly: isReadOnly,
                extraArguments: extraArguments
            )
        )
        self.agents.withLock { $0.append(agent) }
        return agent
    }

    /// The tail of every agent's log.
    func logTails(lines: Int = 40) -> String {
        self.agents.withLock { $0 }.map { $0.logTail(lines: lines) }.joined(separator: "\n")
    }

    /// Records `problems` (if any) as one issue, with the agents' log tails.
    func expectNoProblems(
        _ problems: [String],
        _ what: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        guard !problems.isEmpty else { return }
        let listed = problems.prefix(20).joined(separator: "\n  ")
        let more = problems.count > 20 ? "\n  … and \(problems.count - 20) more" : ""
        Issue.record("\(what):\n  \(listed)\(more)\n\(self.logTails())", sourceLocation: sourceLocation)
    }

    /// SIGTERM to every running agent; each must exit 0.
    func stopAll() async throws {
        for agent in self.agents.withLock({ $0 }) where agent.isRunning {
            try await agent.stop()
        }
    }

    /// SIGKILL to every running agent, waiting until each is gone.
    func killAll() async {
        for agent in self.agents.withLock({ $0 }) {
            await agent.killAndWait()
        }
    }
}

/// Runs `body` with a fresh cluster; afterwards every agent still running is stopped with
/// SIGTERM (and must exit 0). If `body` throws, the agents' log tails are recorded and every
/// agent is killed. No agent outlives the call.
func withAgentCluster<T>(
    identityCount: Int = 16,
    isolation: isolated (any Actor)? = #isolation,
    sourceLocation: SourceLocation = #_sourceLocation,
    _ body: (AgentCluster) async throws -> T
) async throws -> T {
    try await withTemporaryFolder { folder in
        let cluster = try AgentCluster(folder: folder, identityCount: identityCount)
        do {
            let value = try await body(cluster)
            try await cluster.stopAll()
            await cluster.killAll()
            return value
        } catch {
            Issue.record("the test stopped on \(error)\n\(cluster.logTails())", sourceLocation: sourceLocation)
            await cluster.killAll()
            throw error
        }
    }
}

/// A condition on files that did not come true in time, with what was still missing.
struct ConditionTimedOut: Error, CustomStringConvertible {
    var what: String
    var timeout: Duration
    var lastGap: String
    var description: String { "gave up after \(self.timeout) waiting for \(self.what): \(self.lastGap)" }
}

/// Polls `gap` (every `pollInterval`) until it returns `nil`; it returns what is still missing
/// otherwise, which the failure after `timeout` reports.
func waitFor(
    _ what: String,
    timeout: Duration = .seconds(60),
    pollInterval: Duration = .milliseconds(50),
    _ gap: () async throws -> String?
) async throws {
    let deadline = ContinuousClock.now + timeout
    while let missing = try await gap() {
        guard ContinuousClock.now < deadline else {
            throw ConditionTimedOut(what: what, timeout: timeout, lastGap: missing)
        }
        try await Task.sleep(for: pollInterval)
    }
}
