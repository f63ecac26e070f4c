import Foundation
import NIOCore
import NIOPosix
import OpLog
import OpLogIdentity
import Testing

#if canImport(Glibc)
import Glibc
#endif

extension RunProcessTests {
    /// DESIGN §8 and issue #14 items 1 and 3: the control endpoint of a running node (`/status`,
    /// `/metrics`, `/healthz`, `/`) and `oplog-sync status`, against real daemons.
    @Suite("Control endpoint and `status`")
    struct ControlTests {
        @Test("/status has DESIGN §8's fields and types, every configured peer listed, answered or not")
        func statusFieldsAndTypes() async throws {
            try await withAgentCluster { cluster in
                let a = try await cluster.start("A")
                let silent = try await freeLoopbackPort()
                // An ID no node holds, at an address nothing answers at.
                let nobody = NodeFingerprint(certificateDER: Array("nobody".utf8))
                let b = try cluster.add("B", peers: [try a.peerArgument(), "\(nobody)@127.0.0.1:\(silent)"])
                try await b.start()
                let live = try await appendOps(a, session: "live-1", actor: "writer-a", count: 5)
                let other = try await appendOps(a, session: "live-2", actor: "writer-a", count: 3)
                _ = try await a.commands("live-1").oplogSync("checkpoint", ["--snapshot", "snap-1"])
                try await cluster.expectConverged("live-1", on: [a, b], minimumLines: 5, expectedOpIDs: Set(live))
                try await cluster.expectConverged("live-2", on: [a, b], minimumLines: 3, expectedOpIDs: Set(other))
                try await waitFor("B's /status to show A caught up and the checkpoint") {
                    let json = try await b.status().json
                    let peer = json["peers"]?.elements.first
                    let sessions = json["sessions"]?.elements ?? []
                    guard peer?["connected"] == .bool(true), peer?["lag_entries"]?.integer == 0 else {
                        return "peers: \(json["peers"] ?? .null)"
                    }
                    return sessions.first?["checkpoint"] == .string("snap-1") ? nil : "sessions: \(sessions)"
                }

                let (_, json) = try await b.status()
                // DESIGN §8's fields, every one present, in sorted order (the same bytes each time).
                #expect(json.keys == ["listen", "node_id", "peers", "pending", "read_only", "sessions", "version"])
                #expect(json["node_id"]?.string == b.nodeID)
                let version = try await Programs.oplogSync(["--version"]).stdout
                #expect(json["version"].flatMap(\.string).map { "oplog-sync \($0)\n" } == version)
                #expect(json["listen"]?.string == b.address)
                #expect(json["read_only"] == .bool(false))
                #expect(json["pending"] == .array([]), "every node here is paired: none was refused")

                let peers = json["peers"]?.elements ?? []
                try #require(peers.count == 2, "A and the address nothing answers at: \(peers)")
                let peerKeys = [
                    "address", "bytes_received", "bytes_sent", "catch_up", "connected", "id", "lag_entries",
                    "lag_seconds", "last_seen",
                ]
                #expect(peers.map(\.keys) == [peerKeys, peerKeys])
                let linked = peers[0]
                #expect(linked["id"]?.string == a.nodeID)
                #expect(linked["address"]?.string == a.address, "the configured address")
                #expect(linked["connected"] == .bool(true))
                #expect(linked["lag_entries"]?.integer == 0)
                #expect(linked["lag_seconds"]?.number == 0)
                #expect(linked["lag_seconds"]?.typeName == "integer" || linked["lag_seconds"]?.typeName == "number")
                let lastSeen = try #require(linked["last_seen"]?.string)
                #expect(isRFC3339(lastSeen), "\(lastSeen)")
                #expect((linked["bytes_sent"]?.integer ?? 0) > 0)
                #expect((linked["bytes_received"]?.integer ?? 0) > 0)
                #expect(linked["catch_up"] == .null)

                let unanswered = peers[1]
                #expect(unanswered["id"]?.string == nobody.description, "its configured ID")
                #expect(unanswered["address"]?.string == "127.0.0.1:\(silent)")
                #expect(unanswered["connected"] == .bool(false))
                #expect(unanswered["lag_entries"]?.integer == 8, "it lacks every entry, as far as B knows")
                #expect(unanswered["last_seen"] == .null)
                #expect(unanswered["bytes_sent"]?.integer == 0 && unanswered["bytes_received"]?.integer == 0)
                #expect(unanswered["catch_up"] == .null)

                let sessions = json["sessions"]?.elements ?? []
                #expect(sessions.map(\.keys) == Array(repeating: ["checkpoint", "entries", "id", "lamport_ts"], count: 2))
                #expect(sessions.map { $0["id"]?.string } == ["live-1", "live-2"])
                #expect(sessions.map { $0["entries"]?.integer } == [5, 3])
                #expect(sessions.map { $0["lamport_ts"]?.integer } == [5, 3])
                #expect(sessions.map { $0["checkpoint"] ?? .null } == [.string("snap-1"), .null])

                // A lists B, which dialled in: the address its link came from.
                let fromA = try await a.status().json["peers"]?.elements ?? []
                #expect(fromA.map { $0["id"]?.string } == [b.nodeID])
                #expect(fromA.first?["address"]?.string?.hasPrefix("127.0.0.1:") == true)

                let health = try await httpGet(try b.requireHTTPAddress(), "/healthz")
                #expect(health.status == 200 && health.text == "ok\n", "\(health)")
                let page = try await httpGet(try b.requireHTTPAddress(), "/")
                #expect(page.status == 200 && page.contentType == "text/html; charset=utf-8", "\(page)")
            }
        }

        @Test("`status --json` prints /status as it is; `status` prints its tables; no node is one line and exit 1")
        func statusCommand() async throws {
            try await withAgentCluster { cluster in
                // Alone, with nothing changing: two reads of /status are the same bytes.
                let a = try await cluster.start("A")
                _ = try await appendOps(a, session: "live-1", actor: "writer-a", count: 4)
                _ = try await appendOps(a, session: "notes", actor: "writer-a", count: 2)
                _ = try await a.commands("notes").oplogSync("checkpoint", ["--snapshot", "snap-n"])
                try await waitFor("A to number every entry and see the checkpoint") {
                    let sessions = try await a.status().json["sessions"]?.elements ?? []
                    let entries = sessions.map { $0["entries"]?.integer ?? -1 }
                    return entries == [4, 2] && sessions.last?["checkpoint"] == .string("snap-n") ? nil : "\(sessions)"
                }
                let http = try a.requireHTTPAddress()
                let before = try await a.status().bytes
                let json = try await Programs.oplogSync(["status", "--http", http, "--json"])
                let after = try await a.status().bytes
                #expect(json.exitCode == 0, "\(json)")
                #expect(before == after, "a quiet node's /status does not change")
                #expect(json.standardOutput == before, "status --json is /status byte for byte: \(json)")
                #expect(json.standardError.isEmpty)

                let table = try await Programs.oplogSync(["status", "--http", http])
                #expect(table.exitCode == 0, "\(table)")
                let lines = table.stdoutLines
                let version = try await Programs.oplogSync(["--version"]).stdoutLines.first ?? "?"
                #expect(lines.first == "node \(a.nodeID ?? "?") · \(version) · listening on \(a.address) · read-write")
                #expect(lines.contains("no peers"))
                #expect(lines.contains { $0.split(separator: " ", omittingEmptySubsequences: true) == ["live-1", "4", "4", "-"] })
                #expect(lines.contains { $0.split(separator: " ", omittingEmptySubsequences: true) == ["notes", "2", "2", "snap-n"] })

                let nobody = try await freeLoopbackPort()
                for arguments in [["status", "--http", "127.0.0.1:\(nobody)"], ["status", "--http", "127.0.0.1:\(nobody)", "--json"]] {
                    let output = try await Programs.oplogSync(arguments)
                    #expect(output.exitCode == 1, "\(output)")
                    #expect(output.standardOutput.isEmpty)
                    #expect(output.stderrLines.count == 1, "\(output)")
                    #expect(
                        output.stderr.hasPrefix("oplog-sync: error: no node answers at 127.0.0.1:\(nobody): "),
                        "\(output)"
                    )
                }
            }
        }

        @Test("`http on HOST:PORT` follows `listening on`; --http off serves nothing; a busy --http port is one line and exit 1")
        func httpOption() async throws {
            try await withAgentCluster { cluster in
                let a = try await cluster.start("A")
                let http = try a.requireHTTPAddress()
                let stdout = try String(contentsOfFile: "\(cluster.folder.path("A"))/stdout-1.txt", encoding: .utf8)
                #expect(stdout == "listening on \(a.address)\nhttp on \(http)\n")

                let quiet = try cluster.add("Q", extraArguments: ["--http", "off"])
                try await quiet.start()
                let quietOut = try String(contentsOfFile: "\(cluster.folder.path("Q"))/stdout-1.txt", encoding: .utf8)
                #expect(quietOut == "listening on \(quiet.address)\n")
                #expect(quiet.httpAddress == nil)

                let root = cluster.folder.path("busy-root")
                try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
                let busy = try await Programs.oplogSync(
                    [
                        "run", "--root", root, "--listen", "127.0.0.1:0", "--http", http, "--state-dir",
                        cluster.folder.path("busy-state"),
                    ],
                    timeout: .seconds(60)
                )
                expectOneLineError(busy)
                #expect(busy.exitCode == 1, "\(busy)")
                #expect(busy.stderr.contains("cannot serve http on \(http): address already in use"), "\(busy)")
                #expect(a.isRunning, "the node on that port carries on")

                let bad = try await Programs.oplogSync(["run", "--root", root, "--http", "nowhere"])
                expectOneLineError(bad)
                #expect(bad.exitCode == 64, "a usage error: \(bad)")
            }
        }
    }
}

/// A loopback port nothing listens on (bound, then closed again).
func freeLoopbackPort() async throws -> Int {
    let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .bind(host: "127.0.0.1", port: 0)
        .get()
    let port = channel.localAddress?.port ?? 0
    try await channel.close()
    return port
}

/// Whether `text` is an RFC 3339 date-time with a time zone (`2026-11-25T21:40:58.123456+00:00`).
func isRFC3339(_ text: String) -> Bool {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    if formatter.date(from: text) != nil { return true }
    formatter.formatOptions = [.withInternetDateTime]
    return formatter.date(from: text) != nil
}
