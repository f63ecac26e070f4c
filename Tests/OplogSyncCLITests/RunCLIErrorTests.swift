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

        /// DESIGN §5 and §7: a peer is named by its node ID, which `oplog-sync id` prints.
        static let someID = "MFZWI3D-BONSGYC-YLTMRWG-C43ENR5-QXGZDMM-FZWI3DP-BONSGYY-LTMRWAD"

        @Test(
            "a peer without an ID, an ID that is not one, or a node id given by hand: one line, exit 64, saying where",
            arguments: [
                (["--peer", "127.0.0.1:7420"], "oplog-sync id"),
                (["--peer", "MFZWI3D-BONSGYC@127.0.0.1:7420"], "--peer"),
                (["--peer", "\(someID)@127.0.0.1"], "--peer"),
                (["--accept", "MFZWI3D-BONSGYC-YLTMRWG-C43ENR5-QXGZDMM-FZWI3DP-BONSGYY-LTMRWAA"], "--accept"),
                (["--node-id", "studio"], "oplog-sync id"),
            ]
        )
        func badPeerIDs(option: [String], expected: String) async throws {
            try await withTemporaryFolder { folder in
                let root = folder.path("root")
                try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
                let output = try await Programs.oplogSync(
                    ["run", "--root", root, "--listen", "127.0.0.1:0"] + option,
                    timeout: .seconds(60)
                )
                expectOneLineError(output)
                #expect(output.exitCode == 64, "\(output)")
                #expect(output.stderr.contains(expected), "\(output)")
                #expect(treeListing(root).isEmpty, "nothing created under the root: \(treeListing(root))")
            }
        }

        @Test(
            "the config file and the environment: node_id, a peer without an ID, a bad accept ID, a typo, a boolean, each named",
            arguments: [
                ("node_id: studio\n", [String: String](), "oplog-sync id"),
                ("peers: [\"127.0.0.1:7420\"]\n", [:], "oplog-sync id"),
                ("peers:\n  - id: NOTANID\n", [:], "peers"),
                ("listen: 127.0.0.1:0\n", ["OPLOG_SYNC_ACCEPT": "NOTANID"], "OPLOG_SYNC_ACCEPT"),
                ("listen: 127.0.0.1:0\n", ["OPLOG_SYNC_PEERS": "127.0.0.1:1"], "OPLOG_SYNC_PEERS"),
                // A typo is not ignored (a backup configured with one would run read-write).
                ("readonly: true\n", [:], "unknown key \"readonly\" (the nearest known key is \"read_only\")"),
                ("peer: []\n", [:], "the nearest known key is \"peers\""),
                ("read_only: yes\n", [:], "read_only is \"yes\"; it must be true or false"),
                ("listen: 127.0.0.1:0\n", ["OPLOG_SYNC_PEER": "x"], "nearest known one is OPLOG_SYNC_PEERS"),
                ("listen: 127.0.0.1:0\n", ["OPLOG_SYNC_READ_ONLY": "1"], "OPLOG_SYNC_READ_ONLY is \"1\""),
                ("log_format: xml\n", [:], "log format xml is not text or json"),
                ("listen: 127.0.0.1:0\n", ["OPLOG_SYNC_LOG_FORMAT": "JSON"], "log format JSON is not text or json"),
                ("log_formt: json\n", [:], "the nearest known key is \"log_format\""),
                ("forwarding: gossip\n", [:], "forwarding gossip is not one of tree, flood"),
                ("listen: 127.0.0.1:0\n", ["OPLOG_SYNC_FORWARDING": "Tree"], "forwarding Tree is not one of tree, flood"),
            ]
        )
        func badConfiguredPeers(yaml: String, environment: [String: String], expected: String) async throws {
            try await withTemporaryFolder { folder in
                let root = folder.path("root")
                try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
                let config = folder.path("config.yaml")
                try Data(yaml.utf8).write(to: URL(fileURLWithPath: config))
                let output = try await Programs.oplogSync(
                    ["run", "--root", root, "--listen", "127.0.0.1:0", "--config", config],
                    environment: environment,
                    timeout: .seconds(60)
                )
                expectOneLineError(output)
                #expect(output.exitCode == 64, "\(output)")
                #expect(output.stderr.contains(expected), "\(output)")
            }
        }

        /// The shipped `Config/oplog-sync.yaml` passes `--check` as it is and with its example peer
        /// entry uncommented; `--check` starts nothing and names each setting's source.
        @Test("--check on the shipped config file, and on its example peer")
        func checkShippedConfig() async throws {
            let shipped = TestEnvironment.packageRoot.appendingPathComponent("Config/oplog-sync.yaml")
            let text = try String(contentsOf: shipped, encoding: .utf8)
            let example = text.replacingOccurrences(of: "\n#   - id:", with: "\npeers:\n  - id:")
                .replacingOccurrences(of: "\n#     ", with: "\n    ")
                .replacingOccurrences(of: "peers: []", with: "")
            #expect(example != text)
            try await withTemporaryFolder { folder in
                let root = folder.path("root")
                try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
                let withPeer = folder.path("with-peer.yaml")
                try Data(example.utf8).write(to: URL(fileURLWithPath: withPeer))
                for (config, peers) in [(shipped.path, "none"), (withPeer, "@studio.local:7420 sessions=song-*")] {
                    let output = try await Programs.oplogSync(
                        ["run", "--root", root, "--config", config, "--check", "--log-format", "json"],
                        environment: ["OPLOG_SYNC_FSYNC": "false"],
                        timeout: .seconds(60)
                    )
                    #expect(output.exitCode == 0, "\(output)")
                    let lines = output.stdoutLines
                    #expect(lines.contains { $0.hasPrefix("listen ") && $0.hasSuffix("(config file \(config))") })
                    #expect(lines.contains { $0.hasPrefix("fsync ") && $0.hasSuffix("(environment OPLOG_SYNC_FSYNC)") })
                    #expect(lines.contains { $0.hasPrefix("state_dir ") && $0.hasSuffix("(default)") })
                    #expect(lines.contains { $0.hasPrefix("root ") && $0.hasSuffix("(option)") })
                    #expect(lines.contains { $0.hasPrefix("log_format ") && $0.hasSuffix("json  (option)") }, "\(lines)")
                    #expect(lines.contains { $0.hasPrefix("peers ") && $0.contains(peers) }, "\(lines)")
                    // A row for every key the shipped file shows (set or commented out).
                    let keys = text.split(separator: "\n").compactMap { line in
                        line.firstMatch(of: #/^(?:\# )?([a-z_]+):\s/#).map { String($0.output.1) }
                    }
                    #expect(keys.count >= 11, "\(keys)")
                    for key in keys {
                        #expect(lines.contains { $0.hasPrefix("\(key) ") }, "--check shows \(key): \(lines)")
                    }
                    #expect(treeListing(root).isEmpty, "--check starts nothing: \(treeListing(root))")
                }
            }
        }

        @Test("this node's own ID as a --peer or an --accept", arguments: [true, false])
        func ownID(asPeer: Bool) async throws {
            try await withTemporaryFolder { folder in
                let root = folder.path("root")
                try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
                let id = try await Programs.oplogSync(["id", "--root", root], timeout: .seconds(60))
                let own = try #require(id.stdoutLines.first)
                let output = try await Programs.oplogSync(
                    ["run", "--root", root, "--listen", "127.0.0.1:0"]
                        + (asPeer ? ["--peer", "\(own)@127.0.0.1:7420"] : ["--accept", own.lowercased()]),
                    timeout: .seconds(60)
                )
                expectOneLineError(output)
                #expect(output.exitCode == 64, "\(output)")
                #expect(output.stderr.contains("own ID"), "\(output)")
            }
        }

        @Test("a broken identity stops run with its one line, exit 1")
        func brokenIdentity() async throws {
            try await withTemporaryFolder { folder in
                let root = folder.path("root")
                try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
                _ = try await Programs.oplogSync(["id", "--root", root], timeout: .seconds(60))
                let key = root + "/.muse/sync/identity/key.pem"
                try FileManager.default.removeItem(atPath: key)
                let output = try await Programs.oplogSync(["run", "--root", root, "--listen", "127.0.0.1:0"], timeout: .seconds(60))
                expectOneLineError(output)
                #expect(output.exitCode == 1, "\(output)")
                #expect(output.stderr.contains("key.pem"), "\(output)")
                #expect(!FileManager.default.fileExists(atPath: key), "the identity is not remade")
            }
        }
    }
}
