import Foundation
import OpLog
import Testing

extension RunProcessTests {
    /// Issue #14 item 2: the status page at `/`, rendered by a real headless Chromium (Debian's
    /// `chromium`, installed by scripts/setup.sh) once its script has run.
    @Suite("The status page in a browser")
    struct StatusPageTests {
        @Test("the rendered page shows the peer, with its link state, and the sessions with their figures")
        func pageRendersInChromium() async throws {
            let chromium = try #require(TestEnvironment.chromium, "chromium is not on PATH: run scripts/setup.sh")
            try await withAgentCluster { cluster in
                let a = try await cluster.start("A")
                let b = try await cluster.start("B", peers: [a])
                let ids = try await appendOps(a, session: "live-1", actor: "writer-a", count: 6)
                _ = try await appendOps(a, session: "sketch", actor: "writer-a", count: 2)
                _ = try await a.commands("live-1").oplogSync("checkpoint", ["--snapshot", "snap-page"])
                try await cluster.expectConverged("live-1", on: [a, b], minimumLines: 6, expectedOpIDs: Set(ids))
                let aID = try #require(a.nodeID)
                try await waitFor("B's /status to show A up to date and the checkpoint") {
                    let json = try await b.status().json
                    let peer = json["peers"]?.elements.first
                    let checkpoint = json["sessions"]?.elements.first?["checkpoint"]
                    return peer?["lag_entries"]?.integer == 0 && checkpoint == .string("snap-page") ? nil : "\(json)"
                }

                let http = try b.requireHTTPAddress()
                let served = try await httpGet(http, "/").text
                #expect(!served.contains(aID), "the peer is not in the page as served: the script draws it")

                let profile = cluster.folder.path("chromium-profile")
                let output = try await Programs.run(
                    chromium,
                    [
                        "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                        "--user-data-dir=\(profile)", "--virtual-time-budget=10000", "--dump-dom", "http://\(http)/",
                    ],
                    input: nil,
                    timeout: .seconds(120)
                )
                try #require(output.exitCode == 0, "\(output)")
                let dom = output.stdout
                #expect(dom.contains(#"data-peer-id="\#(aID)""#), "the peer's card:\n\(dom)")
                #expect(dom.contains(#"<span class="state">Up to date</span>"#), "its link state:\n\(dom)")
                #expect(dom.contains(#"data-session-id="live-1""#), "the session's row:\n\(dom)")
                #expect(dom.contains(#"data-session-id="sketch""#), "\(dom)")
                #expect(dom.contains("<td>live-1</td><td class=\"num\">6</td><td class=\"num\">6</td><td class=\"mono\">snap-page</td>"), "\(dom)")
                #expect(dom.contains(#"data-state="live""#), "the page says it is live:\n\(dom)")
            }
        }
    }
}
