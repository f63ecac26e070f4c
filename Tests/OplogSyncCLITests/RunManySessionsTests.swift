import Foundation
import Testing

extension RunProcessTests {
    /// One node with a thousand sessions (issue #15, DESIGN §9): it watches them with one
    /// inotify instance and no thread per session, and a fresh node catches up on all of them
    /// with a bounded set of descriptors on both sides.
    @Suite("Many sessions")
    struct ManySessionsTests {
        static let sessionCount = 1_000
        static let linesPerSession = 3

        /// The receiver writes and syncs at most 64 sessions' batches at once (SessionWriters),
        /// each holding its file open; as many again cover everything else it holds (listener,
        /// links, watcher, state files). Without that bound a debug build reached 252 here, and a
        /// release build 815 (Benchmarks/sessions.sh).
        static let receiverDescriptorBound = 128

        @Test("1,000 sessions reach a fresh node: at most 256 descriptors on the sender and 128 on the receiver, 32 threads each")
        func aThousandSessionsToAFreshNode() async throws {
            try await withAgentCluster { cluster in
                let (a, b, sessions) = try await Self.startAThousandSessions(in: cluster)
                var expected = sessions
                let aPID = try #require(a.pid)
                let bPID = try #require(b.pid)
                let sampler = ResourceSampler(pids: [aPID, bPID])
                let sampling = Task { try await sampler.run() }
                defer { sampler.stop() }

                try await Self.waitForEverySession(expected, on: b, timeout: .seconds(300))
                // Live appends on a tenth of the sessions, as Muse makes them: the one watcher
                // sees each of them.
                for number in stride(from: 0, to: Self.sessionCount, by: 10) {
                    let session = Self.session(number)
                    expected[session, default: []].formUnion(
                        try Self.write(1, to: a.files(session), actor: "writer-live", after: expected[session]?.count ?? 0)
                    )
                }
                try await Self.waitForEverySession(expected, on: b, timeout: .seconds(120))
                sampler.stop()
                try await sampling.value

                for (name, pid, bound) in [("A", aPID, 256), ("B", bPID, Self.receiverDescriptorBound)] {
                    let most = sampler.most(pid)
                    print(
                        "many sessions: \(name) held at most \(most.descriptors) descriptors, \(most.threads) threads,"
                            + " \(most.inotifyInstances) inotify instance(s) (\(sampler.samples) samples)"
                    )
                    #expect(most.descriptors <= bound, "\(name) held \(most.descriptors) descriptors at most (\(sampler.samples) samples)")
                    #expect(most.threads <= 32, "\(name) ran \(most.threads) threads at most")
                    #expect(most.inotifyInstances == 1, "\(name) had \(most.inotifyInstances) inotify instances")
                }
                #expect(sampler.samples > 10, "the sampler ran \(sampler.samples) times")
                // Every invariant on a sample of the sessions, including `verify` on each side.
                for number in [0, 1, 499, 500, 998, 999] {
                    let session = Self.session(number)
                    try await cluster.expectConverged(session, on: [a, b], expectedOpIDs: expected[session])
                }
            }
        }

        /// A stop while a thousand sessions arrive, each with its first append to write and sync
        /// (at most 64 at once): what B counted as written is exactly what its files hold, whole
        /// and distinct.
        @Test("SIGTERM B while 1,000 sessions arrive: exit 0, only whole distinct entries, all counted, then it catches up")
        func stopWhileAThousandSessionsArrive() async throws {
            try await withAgentCluster { cluster in
                let (_, b, expected) = try await Self.startAThousandSessions(in: cluster)
                let sessions = "\(b.root)/.muse/op_log"
                try await waitFor("B to take in some of the sessions", pollInterval: .milliseconds(5)) {
                    let count = (try? FileManager.default.contentsOfDirectory(atPath: sessions).count) ?? 0
                    return count >= 100 ? nil : "B has \(count) sessions"
                }
                // stop() expects exit 0: the syncs in flight and the batches waiting for a slot
                // are finished before the process ends.
                try await b.stop()
                var held = 0
                var problems: [String] = []
                for (session, ids) in expected {
                    let (entries, found) = fileProblems(b.replica(session))
                    problems += found
                    held += entries.count
                    let strangers = Set(entries.map(\.opID)).subtracting(ids)
                    if !strangers.isEmpty { problems.append("B's \(session) holds \(strangers.count) entries A never had") }
                }
                cluster.expectNoProblems(problems, "B's files after its stop")
                #expect(held < Self.sessionCount * Self.linesPerSession, "B was stopped while the sessions arrived (it held \(held))")
                #expect(!b.logText().contains("cannot sync"), "\(b.logTail())")
                let stopped = try #require(
                    b.logText().split(separator: "\n").last { $0.contains("stopped") && $0.contains("written=") },
                    "B logs its totals when it stops\n\(b.logTail())"
                )
                let written = stopped.range(of: "written=").flatMap { Int(stopped[$0.upperBound...].prefix(while: \.isNumber)) }
                #expect(written == held, "B counted \(written ?? -1) entries written; its files hold \(held): \(stopped)")

                try await b.start(listen: .same)
                try await Self.waitForEverySession(expected, on: b, timeout: .seconds(300))
            }
        }

        /// Starts A holding ``sessionCount`` sessions of ``linesPerSession`` entries, written as
        /// Muse writes them before A starts (A finds them all at once), and a fresh B that dials
        /// A; returns both and each session's op_ids.
        static func startAThousandSessions(
            in cluster: AgentCluster
        ) async throws -> (a: AgentProcess, b: AgentProcess, expected: [String: Set<String>]) {
            let a = try cluster.add("A")
            var expected: [String: Set<String>] = [:]
            for number in 0..<Self.sessionCount {
                let session = Self.session(number)
                expected[session] = try Self.write(Self.linesPerSession, to: a.files(session), actor: "writer-a")
            }
            try await a.start()
            let b = try cluster.add("B", peers: [try a.peerArgument()])
            try await b.start()
            return (a, b, expected)
        }

        static func session(_ number: Int) -> String {
            String(format: "session-%04d", number)
        }

        /// Appends `count` entries, a chain after the file's last line (`after` entries are
        /// already in the file), in one write; returns their op_ids.
        static func write(_ count: Int, to files: SessionFiles, actor: String, after existing: Int = 0) throws -> Set<String> {
            try FileManager.default.createDirectory(atPath: files.sessionFolder, withIntermediateDirectories: true)
            var parent = splitCompleteLines(files.opsBytes()).last.flatMap(opID(of:))
            var ids: Set<String> = []
            var text = ""
            for index in 0..<count {
                let id = UUID().uuidString.lowercased()
                text += museLine(opID: id, actor: actor, lamportTimestamp: existing + index + 1, parents: parent.map { [$0] } ?? []) + "\n"
                ids.insert(id)
                parent = id
            }
            try files.appendRaw(text)
            return ids
        }

        /// Waits until `agent` holds exactly the expected op_ids in every session.
        static func waitForEverySession(_ expected: [String: Set<String>], on agent: AgentProcess, timeout: Duration) async throws {
            // Every half second: a look reads all thousand files.
            try await waitFor(
                "\(agent.name) to hold every session's entries",
                timeout: timeout,
                pollInterval: .milliseconds(500)
            ) {
                var lacking = 0
                var example = ""
                for (session, ids) in expected {
                    let held = Set(splitCompleteLines(agent.files(session).opsBytes()).compactMap(opID(of:)))
                    if held != ids {
                        lacking += 1
                        if example.isEmpty { example = "\(session) holds \(held.count) of \(ids.count)" }
                    }
                }
                return lacking == 0 ? nil : "\(lacking) of \(expected.count) sessions differ (e.g. \(example))"
            }
        }
    }
}
