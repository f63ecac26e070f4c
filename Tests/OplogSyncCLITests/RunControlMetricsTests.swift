import Foundation
import OpLog
import Testing

#if canImport(Glibc)
import Glibc
#endif

extension RunProcessTests {
    /// DESIGN §8's metric series and a catch-up as `/status` and `status` show it.
    @Suite("Metrics and catch-up")
    struct ControlMetricsTests {
        @Test("lag is 0 after convergence; a stopped peer shows connected 0 and exactly the entries appended since; 0 again once it is back")
        func lagFollowsThePeer() async throws {
            try await withAgentCluster { cluster in
                let a = try await cluster.start("A")
                let b = try await cluster.start("B", peers: [a])
                let bID = try #require(b.nodeID)
                let peer = ["peer": bID]
                let first = try await appendOps(a, session: "live-1", actor: "writer-a", count: 10)
                try await cluster.expectConverged("live-1", on: [a, b], minimumLines: 10, expectedOpIDs: Set(first))
                try await self.waitUntilCurrent(peer, on: a, "A's metrics to show B linked and holding everything")
                let onA = try await a.metrics()
                let onB = try await b.metrics()
                #expect((onA.value("oplog_sync_entries_shipped_total") ?? 0) >= 10, "\(onA)")
                #expect(onB.value("oplog_sync_entries_received_total") == 10, "\(onB)")
                #expect(onA.value("oplog_sync_sessions") == 1 && onB.value("oplog_sync_sessions") == 1)
                #expect((onB.value("oplog_sync_fsync_seconds_count") ?? 0) >= 1, "B synced A's entries: \(onB)")
                #expect(onA.value("oplog_sync_entries_rejected_total", ["reason": "local_invalid_line"]) == 0)
                #expect(onA.value("oplog_sync_connections_refused_total", ["reason": "no_hello"]) == 0)
                for metrics in [onA, onB] {
                    let labelNames = Set(metrics.samples.flatMap(\.labels.keys))
                    #expect(labelNames.isSubset(of: ["peer", "reason", "le"]), "\(labelNames)")
                    #expect(!metrics.samples.contains { $0.labels.values.contains("live-1") }, "no session in a label")
                }

                try await b.stop()
                try await waitFor("A to see B gone") {
                    let connected = try await a.metrics().value("oplog_sync_peer_connected", peer)
                    return connected == 0 ? nil : "oplog_sync_peer_connected{peer=B} \(String(describing: connected))"
                }
                _ = try await appendOps(a, session: "live-1", actor: "writer-a", count: 7)
                _ = try await appendOps(a, session: "live-2", actor: "writer-a", count: 2)
                try await waitFor("A to number the new entries") {
                    let sessions = try await a.status().json["sessions"]?.elements ?? []
                    let entries = sessions.map { $0["entries"]?.integer ?? -1 }
                    return entries == [17, 2] ? nil : "entries \(entries)"
                }
                let stopped = try await a.metrics()
                #expect(stopped.value("oplog_sync_peer_connected", peer) == 0)
                #expect(stopped.value("oplog_sync_peer_lag_entries", peer) == 9, "exactly the entries appended since: \(stopped)")
                #expect(stopped.value("oplog_sync_sessions") == 2)
                let status = try await a.status().json["peers"]?.elements.first
                #expect(status?["id"]?.string == bID)
                #expect(status?["connected"] == .bool(false))
                #expect(status?["lag_entries"]?.integer == 9)
                // The age of the oldest of them grows while B is away.
                let firstAge = try #require(stopped.value("oplog_sync_peer_lag_seconds", peer))
                try await waitFor("B's lag in seconds to grow") {
                    let age = try await a.metrics().value("oplog_sync_peer_lag_seconds", peer) ?? 0
                    return age > firstAge && age > 0 ? nil : "lag seconds \(age), first \(firstAge)"
                }

                try await b.start(listen: .same)
                try await self.waitUntilCurrent(peer, on: a, "A's metrics to show B back and holding everything")
            }
        }

        /// 200,000 entries B lacks: A's `/status` and `oplog-sync status` show the catch-up's
        /// `done` growing. B is frozen (SIGSTOP) at two points of it, so each look sees the
        /// catch-up in progress however fast the machine is.
        @Test("a 200,000-entry catch-up shows a growing catch_up.done in /status and in `status`")
        func catchUpProgress() async throws {
            let total = 200_000
            try await withAgentCluster { cluster in
                let a = try cluster.add("A", extraArguments: ["--log-format", "json"])
                var log: [UInt8] = []
                log.reserveCapacity(total * 160)
                for index in 1...total {
                    log += Array(museLine(opID: "c-\(index)", actor: "a", lamportTimestamp: index, op: "{}").utf8)
                    log.append(UInt8(ascii: "\n"))
                }
                try a.files("backlog").appendRaw(log)
                try await a.start()
                let b = try await cluster.start("B", peers: [a])
                let bID = try #require(b.nodeID)
                let http = try a.requireHTTPAddress()

                // First look: as soon as A shows B catching up, freeze B.
                var firstDone = 0
                try await waitFor("A's /status to show B catching up", pollInterval: .milliseconds(10)) {
                    guard let catchUp = try await a.status().json["peers"]?.elements.first?["catch_up"], catchUp != .null else {
                        return "no catch-up yet"
                    }
                    b.send(SIGSTOP)
                    return nil
                }
                let frozen = try await self.catchUp(of: a)
                #expect(frozen.total == total)
                #expect(frozen.done < total, "B is frozen before the end")
                let firstTable = try await self.statusCatchUp(http: http, peer: bID)
                #expect(firstTable.total == total)
                #expect(firstTable.done >= frozen.done && firstTable.done < total, "\(firstTable)")
                // Acknowledgements B sent before it froze may still arrive: what is shown later
                // must be past what the CLI showed.
                firstDone = firstTable.done

                // While it runs, A logs its progress every 2 s (frozen or not): two lines, with
                // the catch-up's figures as fields, at least 2 s apart by their own timestamps.
                var progressLines: [JSONLogLine] = []
                try await waitFor("A to log B's catch-up twice") {
                    progressLines = try a.jsonLog().filter { $0.message == "peer catching up" && $0["peer"] == bID }
                    return progressLines.count >= 2 ? nil : "\(progressLines.count) progress lines"
                }
                for line in progressLines {
                    #expect(line["total"] == "\(total)")
                    #expect(line["done"].flatMap(Int.init).map { $0 < total } == true, "\(line.object)")
                }
                let times = progressLines.compactMap(\.timestamp)
                #expect(times.count == progressLines.count)
                for (earlier, later) in zip(times, times.dropFirst()) {
                    // The log's timestamps are cut to the millisecond.
                    #expect(later.timeIntervalSince(earlier) >= 1.998, "progress lines \(earlier) and \(later)")
                }

                // Thaw B until A shows more done, freeze it again, look again.
                b.send(SIGCONT)
                try await waitFor("A's /status to show more of B's catch-up done", pollInterval: .milliseconds(5)) {
                    let done = try await self.catchUp(of: a).done
                    guard done > firstDone else { return "done \(done)" }
                    b.send(SIGSTOP)
                    return nil
                }
                let later = try await self.catchUp(of: a)
                #expect(later.done > firstDone && later.done < total, "\(later)")
                let secondTable = try await self.statusCatchUp(http: http, peer: bID)
                #expect(secondTable.done > firstTable.done, "`status` shows it growing: \(firstTable) then \(secondTable)")
                b.send(SIGCONT)

                try await waitFor("B to catch up", timeout: .seconds(120)) {
                    let peer = try await a.status().json["peers"]?.elements.first
                    return peer?["lag_entries"]?.integer == 0 && peer?["catch_up"] == .null ? nil : "\(peer ?? .null)"
                }
                #expect(b.files("backlog").completeLines().count == total)
            }
        }

        /// Waits until `agent`'s metrics show the peer labelled `peer` linked
        /// (`oplog_sync_peer_connected` 1) and lacking nothing (both lag series 0).
        private func waitUntilCurrent(_ peer: [String: String], on agent: AgentProcess, _ what: String) async throws {
            try await waitFor(what) {
                let metrics = try await agent.metrics()
                let seen = [
                    metrics.value("oplog_sync_peer_connected", peer), metrics.value("oplog_sync_peer_lag_entries", peer),
                    metrics.value("oplog_sync_peer_lag_seconds", peer),
                ]
                return seen == [1, 0, 0] ? nil : "connected, lag entries, lag seconds: \(seen)"
            }
        }

        /// A's catch-up of its first peer, from `/status`.
        private func catchUp(of agent: AgentProcess) async throws -> (done: Int, total: Int) {
            let catchUp = try await agent.status().json["peers"]?.elements.first?["catch_up"]
            guard let done = catchUp?["done"]?.integer, let total = catchUp?["total"]?.integer else {
                throw AgentFailure("no catch-up in \(agent.name)'s /status: \(String(describing: catchUp))")
            }
            return (done, total)
        }

        /// The catch-up line `oplog-sync status` prints under `peer`: `catching up [###---]  40%
        /// 80,000 of 200,000 …`, its counts parsed.
        private func statusCatchUp(http: String, peer: String) async throws -> (done: Int, total: Int, line: String) {
            let output = try await Programs.oplogSync(["status", "--http", http])
            try #require(output.exitCode == 0, "\(output)")
            let lines = output.stdoutLines
            guard let row = lines.firstIndex(where: { $0.hasPrefix(peer + " ") }), row + 1 < lines.count,
                let bar = lines[row + 1].range(of: "catching up [")
            else { throw AgentFailure("no catch-up under \(peer):\n\(output.stdout)") }
            let line = String(lines[row + 1][bar.lowerBound...])
            let words = line.split(separator: " ")
            guard let of = words.firstIndex(of: "of"), of > 0, of + 1 < words.count,
                let done = Int(words[of - 1].replacingOccurrences(of: ",", with: "")),
                let total = Int(words[of + 1].replacingOccurrences(of: ",", with: ""))
            else { throw AgentFailure("cannot read the catch-up line: \(line)") }
            return (done, total, line)
        }
    }
}
