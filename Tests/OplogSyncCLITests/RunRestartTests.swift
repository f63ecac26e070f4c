import Foundation
import NIOCore
import NIOPosix
import Synchronization
import Testing

extension RunProcessTests {
    /// DESIGN §3.1–3.2 across restarts and crashes: a node that comes back catches up, and
    /// nothing is written twice.
    @Suite("Restarts and crashes")
    struct RestartTests {
        @Test("SIGTERM B (exit 0), append on A, restart B on its port with the same state: B catches up, no duplicates")
        func gracefulRestart() async throws {
            let session = "restart"
            try await withAgentCluster { cluster in
                let b = try await cluster.start("B")
                let a = try await cluster.start("A", peers: [b])
                let before = try await appendOps(a, session: session, actor: "writer-a", count: 50)
                try await cluster.expectConverged(session, on: [a, b], expectedOpIDs: Set(before))
                let nodeID = try #require(b.nodeID)

                try await b.stop()
                let bytesWhileDown = b.files(session).opsBytes()
                let whileDown = try await appendOps(a, session: session, actor: "writer-a", count: 50)
                let secondSession = try await appendOps(a, session: "restart-2", actor: "writer-a", count: 5)
                #expect(b.files(session).opsBytes() == bytesWhileDown, "B's file is untouched while B is down")

                try await b.start(listen: .same)
                #expect(b.nodeID == nodeID, "B keeps its node id in its state folder")
                // B's record of what A holds of B's file (all of it) is kept: it names the last
                // entry by its placement, which must still match the file.
                let indexed = b.logText().split(separator: "\n").last { $0.contains("indexed") && $0.contains("peers_with_progress=") }
                #expect(indexed?.contains("peers_with_progress=1") == true, "B restored its progress: \(indexed ?? "no indexed line")")
                #expect(!b.logText().contains("recorded progress no longer matches"), "B dropped its progress\n\(b.logTail())")
                let afterRestart = try await appendOps(b, session: session, actor: "writer-b", count: 5)
                try await cluster.expectConverged(session, on: [a, b], expectedOpIDs: Set(before + whileDown + afterRestart))
                try await cluster.expectConverged("restart-2", on: [a, b], expectedOpIDs: Set(secondSession))
            }
        }

        @Test("SIGKILL B while Muse's writer streams 2,000 lines on A; B restarts and converges, no duplicates, no glued lines", RunProcessTests.python)
        func crashMidStream() async throws {
            let session = "crash"
            let streamed = 2_000
            try await withAgentCluster { cluster in
                let a = try await cluster.start("A")
                let b = try await cluster.start("B", peers: [a])
                let seeded = try await appendOps(a, session: session, actor: "writer-a", count: 10)
                try await cluster.expectConverged(session, on: [a, b], expectedOpIDs: Set(seeded))

                let writer = Task {
                    try await Programs.python([
                        "-c", Self.pacedMuseWriter, TestEnvironment.museLikeScript, a.root, session, "muse-stream", String(streamed),
                    ])
                }
                defer { writer.cancel() }
                let marker = Array(#""actor_id":"muse-stream""#.utf8)
                func streamedLines(_ agent: AgentProcess) -> Int {
                    agent.files(session).completeLines().filter { $0.firstRange(of: marker) != nil }.count
                }
                try await waitFor("B to receive part of the stream", pollInterval: .milliseconds(5)) {
                    streamedLines(b) >= 300 ? nil : "B has \(streamedLines(b)) streamed lines"
                }
                try await b.kill()
                let onBAtKill = streamedLines(b)
                let onAAtKill = streamedLines(a)
                #expect(onBAtKill < streamed, "B was killed mid-stream (it had \(onBAtKill) of \(streamed) lines; A had \(onAAtKill))")

                // B's own writer carries on while its daemon is down.
                let offline = try await appendOps(b, session: session, actor: "writer-b", count: 5)
                let output = try await writer.value
                #expect(output.exitCode == 0, "\(output)")
                try await b.start()
                try await cluster.expectConverged(session, on: [a, b], minimumLines: 10 + streamed + 5, timeout: .seconds(120))
                #expect(streamedLines(a) == streamed)
                #expect(Set(offline).isSubset(of: Set(ReplicaContents(a.replica(session)).opIDs)), "B's offline entries reached A")
            }
        }

        @Test("DESIGN §3.9: a restarted B does not ship back what it had received (resume, not restart)")
        func restartDoesNotReshipReceivedEntries() async throws {
            let session = "resume"
            try await withAgentCluster { cluster in
                let a = try await cluster.start("A")
                let b = try await cluster.start("B", peers: [a])
                let received = try await appendOps(a, session: session, actor: "writer-a", count: 200)
                try await cluster.expectConverged(session, on: [a, b], expectedOpIDs: Set(received))

                try await b.restart(listen: .same)
                let own = try await appendOps(b, session: session, actor: "writer-b", count: 3)
                try await cluster.expectConverged(session, on: [a, b], expectedOpIDs: Set(received + own))
                try await b.stop()
                // The daemon's last lifecycle line counts what this run of B shipped.
                let stopped = try #require(
                    b.logText().split(separator: "\n").last { $0.contains("stopped") && $0.contains("shipped=") },
                    "B logs its totals when it stops\n\(b.logTail())"
                )
                let shipped = stopped.range(of: "shipped=").flatMap { Int(stopped[$0.upperBound...].prefix(while: \.isNumber)) }
                #expect(shipped == own.count, "after the restart B shipped \(shipped ?? -1) entries; only its own \(own.count) were new to A: \(stopped)")
            }
        }

        @Test("SIGTERM B while it takes in a 10,000-entry backlog (writes and syncs in flight): exit 0, only whole distinct entries, then it converges")
        func gracefulStopMidTransfer() async throws {
            let session = "drain"
            try await withAgentCluster { cluster in
                let a = try await cluster.start("A")
                let backlog = try await appendOps(a, session: session, actor: "writer-a", count: 10_000)
                let b = try await cluster.start("B", peers: [a])
                try await waitFor("B to take in part of the backlog", pollInterval: .milliseconds(5)) {
                    let lines = ReplicaContents(b.replica(session)).lines.count
                    return lines >= 500 ? nil : "B has \(lines) lines"
                }
                // stop() expects exit 0: the syncs in flight finish before the process ends.
                try await b.stop()
                let (entries, problems) = fileProblems(b.replica(session))
                #expect(problems.isEmpty, "\(problems.prefix(5))")
                #expect(entries.count < backlog.count, "B was stopped mid-transfer (it had \(entries.count) entries)")
                #expect(Set(entries.map(\.opID)).isSubset(of: Set(backlog)), "B holds only A's entries")
                #expect(!b.logText().contains("cannot sync"), "\(b.logTail())")
                // Every line in B's file was acknowledged as written (counted once its sync was
                // done): none was left with its sync unfinished when B exited.
                let stopped = try #require(
                    b.logText().split(separator: "\n").last { $0.contains("stopped") && $0.contains("written=") },
                    "B logs its totals when it stops\n\(b.logTail())"
                )
                let written = stopped.range(of: "written=").flatMap { Int(stopped[$0.upperBound...].prefix(while: \.isNumber)) }
                #expect(written == entries.count, "B counted \(written ?? -1) entries written; its file has \(entries.count): \(stopped)")

                try await b.start(listen: .same)
                try await cluster.expectConverged(session, on: [a, b], expectedOpIDs: Set(backlog), timeout: .seconds(120))
            }
        }

        @Test("SIGTERM A while connections keep arriving (a peer redialling, a port scan): exit 0, none accepted during shutdown crashes it")
        func stopWhileConnectionsArrive() async throws {
            try await withAgentCluster { cluster in
                let a = try await cluster.start("A")
                let port = a.port
                let connected = ConnectionCount()
                try await withThrowingTaskGroup { storm in
                    // Four connectors, each opening and closing connections back to back until A
                    // stops listening (bounded: 3,000 connections or 60 s each).
                    for _ in 0..<4 {
                        storm.addTask {
                            let deadline = ContinuousClock.now + .seconds(60)
                            for _ in 0..<3_000 where ContinuousClock.now < deadline && !Task.isCancelled {
                                do {
                                    let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                                        .connect(host: "127.0.0.1", port: port).get()
                                    connected.value.add(1, ordering: .relaxed)
                                    try? await channel.close()
                                } catch {
                                    return  // refused: A has closed its listener
                                }
                            }
                        }
                    }
                    try await waitFor("the first 200 connections to A", pollInterval: .milliseconds(5)) {
                        let made = connected.value.load(ordering: .relaxed)
                        return made >= 200 ? nil : "\(made) made"
                    }
                    // stop() expects exit 0 while the connections keep coming.
                    try await a.stop()
                    storm.cancelAll()
                }
            }
        }

        /// `python3 -c SCRIPT MUSE_LIKE ROOT SESSION ACTOR COUNT`: Muse's writer appending COUNT
        /// entries, pausing 10 ms every 10, so the stream lasts a couple of seconds.
        static let pacedMuseWriter = """
            import importlib.util, sys, time
            spec = importlib.util.spec_from_file_location("muse_like", sys.argv[1])
            muse = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(muse)
            root, session, actor, count = sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
            log = muse.OpLog(root, session)
            for i in range(count):
                op = {"op": muse.KINDS[i % len(muse.KINDS)], "pitch": 60 + i % 12, "seq": i}
                log.append(muse.make_op_entry(actor, "music", op, log.next_lamport_ts()))
                if i % 10 == 9:
                    time.sleep(0.01)
            """
    }
}

/// Connections a test has made so far, shared by the tasks that make them.
private final class ConnectionCount: Sendable {
    let value = Atomic<Int>(0)
}
