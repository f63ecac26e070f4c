/// Two `oplog-sync run` nodes on loopback, each with its own root and state folder: B listens,
/// A listens and dials B. The writer appends to A's log; the reader watches B's.
struct NodePair: Replicator {
    private let nodes: [NodeProcess]

    /// Pairs the two by node ID as a user would (`oplog-sync id` in each state folder), then
    /// starts B accepting A, then A with `--peer B_ID@B`: every byte between them goes over
    /// mutual TLS 1.3. Both on `127.0.0.1:0` (their control endpoints too), logging warnings and worse to
    /// `<folder>/node-<name>.log`.
    /// - Throws: ``BenchmarkError`` when a node does not start; one already started is stopped.
    init(
        in folder: TemporaryFolder,
        layout: ReplicaLayout,
        settings: BenchmarkSettings,
        synchronizesWrites: Bool
    ) throws(BenchmarkError) {
        func arguments(root: String, state: String) -> [String] {
            // The control endpoint serves, as it does for users, on a port of its own.
            var arguments = [
                "--root", root, "--listen", "127.0.0.1:0", "--http", "127.0.0.1:0", "--state-dir", state, "--log-level",
                "warning",
            ]
            if !synchronizesWrites { arguments.append("--no-fsync") }
            return arguments
        }
        let idA = try NodeProcess.nodeID(
            executable: settings.executablePath,
            stateFolder: folder.appending("state-a"),
            logPath: folder.appending("id-a.log")
        )
        let idB = try NodeProcess.nodeID(
            executable: settings.executablePath,
            stateFolder: folder.appending("state-b"),
            logPath: folder.appending("id-b.log")
        )
        let nodeB = try NodeProcess(
            name: "B",
            executable: settings.executablePath,
            arguments: arguments(root: layout.destinationRoot, state: folder.appending("state-b")) + ["--accept", idA],
            logPath: folder.appending("node-b.log")
        )
        do throws(BenchmarkError) {
            let nodeA = try NodeProcess(
                name: "A",
                executable: settings.executablePath,
                arguments: arguments(root: layout.sourceRoot, state: folder.appending("state-a")) + [
                    "--peer", "\(idB)@\(nodeB.address)",
                ],
                logPath: folder.appending("node-a.log")
            )
            self.nodes = [nodeA, nodeB]
        } catch {
            _ = nodeB.stop()
            throw error
        }
    }

    /// Stops A, then B; each note says how the node ended and quotes the end of its log, if any.
    func stop() -> [String] {
        self.nodes.map { node in
            let ending = node.stop()
            let log = NodeProcess.tail(of: node.logPath, lines: 5)
            let logNote =
                log.isEmpty
                ? "log empty" : "last log lines:\n    \(log.split(separator: "\n").joined(separator: "\n    "))"
            return "node \(node.name) (pid \(node.pid)): \(ending); \(logNote)"
        }
    }
}
