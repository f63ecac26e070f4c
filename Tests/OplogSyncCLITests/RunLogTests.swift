import Foundation
import Testing

extension RunProcessTests {
    /// DESIGN §8's logs: `--log-format json`, and nothing skipped silently.
    @Suite("Logs: JSON lines, and every skipped thing named once")
    struct LogTests {
        /// A node logging JSON, holding folders that are not sessions (a name that is not a
        /// session id, two of them; a symbolic link; one more made while it runs), a local file
        /// that repeats an op id, and dialled by a node it does not know: each is one JSON line,
        /// logged once even after a rescan of the op log folder, and every line of its stderr
        /// parses.
        @Test("--log-format json: every line parses; skipped folders, a repeated op_id and a refused node each logged once")
        func jsonLinesNameEachSkippedThingOnce() async throws {
            try await withAgentCluster { cluster in
                let a = try cluster.add("A", extraArguments: ["--log-format", "json"])
                let opLog = "\(a.root)/.muse/op_log"
                let manager = FileManager.default
                for name in ["s\u{E9}ance-\u{266B}", "has space"] {
                    try manager.createDirectory(atPath: "\(opLog)/\(name)", withIntermediateDirectories: true)
                }
                try manager.createDirectory(atPath: "\(a.root)/elsewhere", withIntermediateDirectories: true)
                try manager.createSymbolicLink(atPath: "\(opLog)/linked", withDestinationPath: "\(a.root)/elsewhere")
                let repeated = museLine(actor: "muse", lamportTimestamp: 1)
                let repeatedID = try #require(opID(of: Array(repeated.utf8)))
                let after = museLine(actor: "muse", lamportTimestamp: 2)
                let afterID = try #require(opID(of: Array(after.utf8)))
                try a.files("dup").appendRaw(repeated + "\n" + repeated + "\n" + after + "\n")
                try await a.start()
                let b = try await cluster.start("B", peers: [a])
                // A's file keeps its repeated line (it is its writer's); B gets each entry once.
                try await waitFor("dup on B") { holdsGap(b.replica("dup"), [repeatedID, afterID]) }

                let stranger = try cluster.add("X", peers: [try a.peerArgument()], membership: .stranger)
                try await stranger.start()
                let strangerID = try #require(stranger.nodeID)
                try manager.createDirectory(atPath: "\(opLog)/late one", withIntermediateDirectories: true)
                try await waitFor("A to log the refused node and the late folder") {
                    let log = try a.jsonLog()
                    if !log.contains(where: { $0["hint"] == "--accept \(strangerID)" }) { return "no refusal yet" }
                    if !log.contains(where: { $0["folder.path"] == "\(opLog)/late one" }) { return "no late folder yet" }
                    return nil
                }
                // A session folder removed makes the watcher ask for a rescan, which lists the
                // skipped folders again: they must not be logged again. An entry appended after
                // the removal reaches B only once A has read past it.
                try manager.createDirectory(atPath: "\(opLog)/scratch", withIntermediateDirectories: true)
                try manager.removeItem(atPath: "\(opLog)/scratch")
                let marker = try await appendOps(a, session: "marker", actor: "writer-a", count: 1)
                try await waitFor("the marker on B") { holdsGap(b.replica("marker"), marker) }
                try await stranger.stop()
                try await a.stop()

                let log = try a.jsonLog()
                #expect(log.count > 5, "A logged its start, links and stop")
                for line in log {
                    #expect(["trace", "debug", "info", "notice", "warning", "error", "critical"].contains(line.level))
                    #expect(line.timestamp != nil, "an RFC 3339 timestamp: \(line.object)")
                }
                let skipped = log.filter { $0.message == "folder not replicated" }
                let paths = skipped.compactMap { $0["folder.path"] }
                expectSameElements(
                    paths.sorted(),
                    ["s\u{E9}ance-\u{266B}", "has space", "linked", "late one"].map { "\(opLog)/\($0)" }.sorted(),
                    "each skipped folder logged once"
                )
                for line in skipped {
                    #expect(line.level == "warning")
                    let hint = line["hint"] ?? ""
                    #expect(hint.contains("rename") || hint.contains("symbolic link"), "says what to do: \(hint)")
                }
                let repeats = log.filter { $0.message.hasPrefix("op_id repeated in ops.jsonl") }
                #expect(repeats.count == 1, "\(repeats.map(\.object))")
                #expect(repeats.first?["op_id"] == repeatedID)
                #expect(repeats.first?["session"] == "dup")
                let refusals = log.filter { $0["hint"] == "--accept \(strangerID)" }
                #expect(!refusals.isEmpty)
                #expect(refusals.allSatisfy { $0.message.contains("--accept \(strangerID)") && $0.level == "warning" })
                #expect(log.contains { $0.message == "stopped" }, "the stop is logged too")
                #expect(b.files("dup").completeLines().count == 2, "the repeated line is not shipped")
            }
        }
    }
}
