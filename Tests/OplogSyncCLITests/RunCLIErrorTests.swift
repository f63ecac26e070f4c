import Foundation
import Testing

extension RunProcessTests {
    /// DESIGN §5: "A bad option, missing root or busy port: a one-line error and a non-zero exit."
    @Suite("`run` refuses bad starts")
    struct RunCLIErrorTests {
        @Test("a port another agent listens on")
        func busyPort() async throws {
            try await withAgentCluster { cluster in
                let a = try await cluster.start("A")
                let root = cluster.folder.path("second-root")
                try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
                let output = try await Programs.oplogSync(
                    ["run", "--root", root, "--listen", a.address, "--state-dir", cluster.folder.path("second-state")],
                    timeout: .seconds(60)
                )
                expectOneLineError(output)
                #expect(output.stderr.contains(String(a.port)), "the error names the address: \(output)")
                #expect(a.isRunning, "the agent on that port carries on")
            }
        }

        @Test("a root that does not exist")
        func missingRoot() async throws {
            try await withTemporaryFolder { folder in
                let output = try await Programs.oplogSync(
                    ["run", "--root", folder.path("no-such-root"), "--listen", "127.0.0.1:0"],
                    timeout: .seconds(60)
                )
                expectOneLineError(output)
                #expect(treeListing(folder.path).isEmpty, "nothing created: \(treeListing(folder.path))")
            }
        }

        @Test(
            "a --peer or --listen that is not HOST:PORT",
            arguments: [
                ["--peer", "localhost"], ["--peer", "127.0.0.1:http"], ["--peer", "127.0.0.1:70000"], ["--peer", ":7420"],
                ["--peer", "127.0.0.1:-1"], ["--peer", ""], ["--listen", "127.0.0.1"], ["--listen", "127.0.0.1:99999"],
            ]
        )
        func badAddress(option: [String]) async throws {
            try await withTemporaryFolder { folder in
                let root = folder.path("root")
                try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
                var arguments = ["run", "--root", root]
                if option.first != "--listen" { arguments += ["--listen", "127.0.0.1:0"] }
                let output = try await Programs.oplogSync(arguments + option, timeout: .seconds(60))
                expectOneLineError(output)
                #expect(treeListing(root).isEmpty, "nothing created under the root: \(treeListing(root))")
            }
        }

        @Test(
            "a node id that no peer would accept, in the state folder or on the command line",
            arguments: [String(repeating: "x", count: 200), "has space", "caf\u{E9}"]
        )
        func invalidNodeID(id: String) async throws {
            try await withTemporaryFolder { folder in
                let root = folder.path("root")
                let state = folder.path("state")
                try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
                try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
                try Data((id + "\n").utf8).write(to: URL(fileURLWithPath: state + "/node_id"))
                let recorded = try await Programs.oplogSync(
                    ["run", "--root", root, "--listen", "127.0.0.1:0", "--state-dir", state],
                    timeout: .seconds(60)
                )
                expectOneLineError(recorded)
                #expect(recorded.stderr.contains("does not hold a valid node id"), "\(recorded)")
                let given = try await Programs.oplogSync(
                    ["run", "--root", root, "--listen", "127.0.0.1:0", "--node-id", id],
                    timeout: .seconds(60)
                )
                expectOneLineError(given)
                #expect(given.stderr.contains("node id"), "\(given)")
            }
        }
    }
}
