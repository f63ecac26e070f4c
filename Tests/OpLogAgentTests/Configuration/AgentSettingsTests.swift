import Configuration
import Foundation
import OpLog
import OpLogAgent
import OpLogIdentity
import OpLogReplication
import SystemPackage
import Testing

@Suite struct PeerAddressTests {
    @Test(arguments: [
        ("127.0.0.1:7420", "127.0.0.1", 7420),
        ("studio.local:0", "studio.local", 0),
        ("[::1]:65535", "::1", 65535),
        ("[fe80::1%eth0]:9", "fe80::1%eth0", 9),
    ])
    func parses(text: String, host: String, port: Int) throws {
        let address = try PeerAddress(parsing: text)
        #expect(address.host == host)
        #expect(address.port == port)
        #expect(address.description == text)
    }

    @Test(arguments: ["", "7420", ":7420", "host:", "host:65536", "host:-1", "host:http", "[::1]7420", "[::1]"])
    func refuses(text: String) {
        #expect(throws: AgentError.self) { try PeerAddress(parsing: text) }
    }
}

@Suite struct AgentSettingsTests {
    func withConfigFile<T>(_ text: String, _ body: (FilePath) async throws -> T) async throws -> T {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("oplog-settings-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("config.yaml")
        try Data(text.utf8).write(to: file)
        return try await body(FilePath(file.path))
    }

    @Test func readsEveryKeyFromYAML() async throws {
        let yaml = """
            listen: 0.0.0.0:7000
            peers: [a:1, "b:2"]
            accept: [x, y]
            node_id: studio
            read_only: true
            state_dir: /var/lib/oplog
            fsync: false
            hold_seconds: 2.5
            stale_tail_seconds: 30
            log_level: debug
            """
        let settings = try await self.withConfigFile(yaml) { file in
            try await AgentSettings.read(configFile: file, environment: [:])
        }
        #expect(settings.listen == "0.0.0.0:7000")
        #expect(settings.peers == [.init(text: "a:1"), .init(text: "b:2")])
        #expect(settings.accept == ["x", "y"])
        #expect(settings.retiredNodeID == "studio", "read, so that run can refuse it")
        #expect(settings.isReadOnly == true)
        #expect(settings.stateDirectory == "/var/lib/oplog")
        #expect(settings.synchronizeWrites == false)
        #expect(settings.holdSeconds == 2.5)
        #expect(settings.staleTailSeconds == 30)
        #expect(settings.logLevel == "debug")
    }

    @Test func environmentOverridesTheFileAndOnlyPrefixedVariablesCount() async throws {
        let settings = try await self.withConfigFile("listen: 0.0.0.0:7000\npeers: [a:1]\n") { file in
            try await AgentSettings.read(
                configFile: file,
                environment: ["OPLOG_SYNC_PEERS": "c:3,d:4", "LISTEN": "9.9.9.9:9", "OPLOG_SYNC_FSYNC": "false"]
            )
        }
        #expect(settings.listen == "0.0.0.0:7000")
        #expect(settings.peers == [.init(text: "c:3"), .init(text: "d:4")])
        #expect(settings.peersOrigin == "OPLOG_SYNC_PEERS")
        #expect(settings.synchronizeWrites == false)
        #expect(settings.isReadOnly == nil)
    }

    /// STYLE §9: options sit ahead of the environment and the file, and `--check` says so.
    @Test func optionsOverrideTheEnvironmentAndTheFile() async throws {
        let yaml = "listen: 0.0.0.0:7000\npeers: [a:1]\nlog_format: text\nhold_seconds: 3\nread_only: false\n"
        let settings = try await self.withConfigFile(yaml) { file in
            try await AgentSettings.read(
                options: [
                    "listen": .string("127.0.0.1:1"), "peers": .stringArray(["p:1"]), "log_format": .string("json"),
                    "read_only": .bool(true),
                ],
                configFile: file,
                environment: ["OPLOG_SYNC_LISTEN": "9.9.9.9:9", "OPLOG_SYNC_PEERS": "c:3", "OPLOG_SYNC_HOLD_SECONDS": "4"]
            )
        }
        #expect(settings.listen == "127.0.0.1:1")
        #expect(settings.peers == [.init(text: "p:1")])
        #expect(settings.peersOrigin == "--peer")
        #expect(settings.logFormat == "json")
        #expect(settings.isReadOnly == true)
        #expect(settings.holdSeconds == 4, "the environment still beats the file")
        #expect(settings.origins["listen"] == "option")
        #expect(settings.origins["peers"] == "option")
        #expect(settings.origins["hold_seconds"] == "environment OPLOG_SYNC_HOLD_SECONDS")
        #expect(settings.origins["read_only"] == "option")
        #expect(settings.origins["state_dir"] == nil)
    }

    @Test func nothingSetMeansEveryDefault() async throws {
        let settings = try await AgentSettings.read(configFile: nil, environment: ["PATH": "/bin"])
        #expect(settings == AgentSettings())
    }

    @Test func wrongTypesAndBadFilesAreOneLineErrors() async throws {
        await #expect(throws: AgentError.self) {
            try await self.withConfigFile("read_only: maybe\n") { file in
                try await AgentSettings.read(configFile: file, environment: [:])
            }
        }
        await #expect(throws: AgentError.self) {
            try await AgentSettings.read(configFile: nil, environment: ["OPLOG_SYNC_HOLD_SECONDS": "soon"])
        }
        await #expect(throws: AgentError.self) {
            try await self.withConfigFile("peers: [\n") { file in
                try await AgentSettings.read(configFile: file, environment: [:])
            }
        }
        let missing = FilePath("/nonexistent/oplog-sync/config.yaml")
        do {
            _ = try await AgentSettings.read(configFile: missing, environment: [:])
            Issue.record("a missing config file was accepted")
        } catch {
            #expect(error.message.contains("/nonexistent/oplog-sync/config.yaml"))
            #expect(!error.message.contains("\n"))
        }
    }

    /// The one line `read` throws for `yaml` and `environment`; fails the test if it reads them.
    func refusal(_ yaml: String?, environment: [String: String] = [:]) async throws -> String {
        do {
            if let yaml {
                _ = try await self.withConfigFile(yaml) { file in
                    try await AgentSettings.read(configFile: file, environment: environment)
                }
            } else {
                _ = try await AgentSettings.read(configFile: nil, environment: environment)
            }
        } catch let error as AgentError {
            #expect(!error.message.contains("\n"), "one line")
            return error.message
        }
        Issue.record("accepted: \(yaml ?? "") \(environment)")
        return ""
    }

    /// The typos a new user makes are errors that name the key and the one they meant.
    @Test(arguments: [
        ("peer: []\n", "\"peer\"", "\"peers\""),
        ("readonly: true\n", "\"readonly\"", "\"read_only\""),
        ("listen: 127.0.0.1:1\nstatedir: /x\n", "\"statedir\"", "\"state_dir\""),
        ("hold_second: 3\n", "\"hold_second\"", "\"hold_seconds\""),
    ])
    func anUnknownFileKeyNamesTheNearestKnownOne(yaml: String, named: String, nearest: String) async throws {
        let message = try await self.refusal(yaml)
        #expect(message.contains(named), "\(message)")
        #expect(message.contains("nearest known key is \(nearest)"), "\(message)")
        #expect(message.contains("config file "), "\(message)")
    }

    @Test(arguments: [
        ("OPLOG_SYNC_PEER", "OPLOG_SYNC_PEERS"),
        ("OPLOG_SYNC_READONLY", "OPLOG_SYNC_READ_ONLY"),
        ("OPLOG_SYNC_LOGLEVEL", "OPLOG_SYNC_LOG_LEVEL"),
        ("OPLOG_SYNC_listen", "OPLOG_SYNC_LISTEN"),
    ])
    func anUnknownVariableNamesTheNearestKnownOne(variable: String, nearest: String) async throws {
        let message = try await self.refusal(nil, environment: [variable: "x", "PATH": "/bin"])
        #expect(message.contains("unknown environment variable \(variable) "), "\(message)")
        #expect(message.contains("nearest known one is \(nearest))"), "\(message)")
    }

    /// One boolean syntax everywhere: `true` and `false`, nothing YAML 1.1 or a shell would
    /// also take.
    @Test(arguments: ["yes", "no", "on", "1", "0", "True", "FALSE"])
    func booleansAreTrueOrFalseOnly(text: String) async throws {
        let inFile = try await self.refusal("read_only: \(text)\n")
        #expect(inFile.contains("read_only") && inFile.contains("true or false"), "\(inFile)")
        let inEnvironment = try await self.refusal(nil, environment: ["OPLOG_SYNC_FSYNC": text])
        #expect(inEnvironment.contains("OPLOG_SYNC_FSYNC") && inEnvironment.contains("true or false"))
    }

    @Test func wrongShapesNameTheKey() async throws {
        #expect(try await self.refusal("hold_seconds: [1]\n").contains("hold_seconds"))
        #expect(try await self.refusal("accept: {a: 1}\n").contains("accept must be a list"))
        #expect(try await self.refusal("stale_tail_seconds: soon\n").contains("must be a number"))
        #expect(try await self.refusal("- listen\n").contains("must be a mapping"))
    }

    @Test func everyKnownKeyPassesTheCheck() async throws {
        let settings = try await AgentSettings.read(
            configFile: nil,
            environment: ["OPLOG_SYNC_READ_ONLY": "true", "OPLOG_SYNC_FSYNC": "false", "OPLOG_SYNC_HTTP": "off"]
        )
        #expect(settings.isReadOnly == true)
        #expect(settings.synchronizeWrites == false)
        #expect(settings.http == "off")
    }

    /// The Syncthing docs' device ID, and a second valid one.
    static let studio = "MFZWI3D-BONSGYC-YLTMRWG-C43ENR5-QXGZDMM-FZWI3DP-BONSGYY-LTMRWAD"
    static let laptop = NodeFingerprint(certificateDER: Array("laptop".utf8)).description

    @Test func peersAsMappingsCarryTheirRules() async throws {
        let yaml = """
            listen: 0.0.0.0:7000
            peers:
              - id: \(Self.studio)
                address: studio.local:7420
                sessions: ["song-*", "take-?"]
                receive: false
              - id: \(Self.laptop.lowercased())
              - \(Self.studio)@10.0.0.2:7420
            accept: [\(Self.laptop)]
            fsync: false
            """
        let settings = try await self.withConfigFile(yaml) { file in
            try await AgentSettings.read(configFile: file, environment: [:])
        }
        #expect(settings.listen == "0.0.0.0:7000", "the other keys are still read")
        #expect(settings.synchronizeWrites == false)
        let peers = try #require(try settings.peerConfigurations())
        #expect(peers.count == 3)
        #expect(peers[0].id.description == Self.studio)
        #expect(peers[0].address == PeerAddress(host: "studio.local", port: 7420))
        #expect(peers[0].rules.sessions?.map(\.text) == ["song-*", "take-?"])
        #expect(peers[0].rules.isReceiving == false)
        #expect(peers[0].rules.admits(try SessionID(validating: "song-1")))
        #expect(peers[0].rules.admits(try SessionID(validating: "take-7")))
        #expect(!peers[0].rules.admits(try SessionID(validating: "take-10")))
        #expect(!peers[0].rules.admits(try SessionID(validating: "secret")))
        #expect(peers[1].id.description == Self.laptop, "case does not matter")
        #expect(peers[1].address == nil && peers[1].rules == .everything)
        #expect(peers[2].address == PeerAddress(host: "10.0.0.2", port: 7420) && peers[2].rules == .everything)
        #expect(try settings.acceptedIDs()?.map(\.description) == [Self.laptop])
    }

    @Test(arguments: [
        ("peers: [\"127.0.0.1:7420\"]", "oplog-sync id"),
        ("peers: [\"NOTANID@127.0.0.1:7420\"]", "peers:"),
        ("accept: [\"MFZWI3D\"]", "accept:"),
        ("peers:\n  - id: \(studio)\n    sessions: [\"a/b\"]\n", "sessions"),
        ("peers:\n  - id: \(studio)\n    address: nowhere\n", "address"),
    ])
    func badPeersNameWhereTheyCameFrom(yaml: String, expected: String) async throws {
        let settings = try await self.withConfigFile(yaml) { file in
            try await AgentSettings.read(configFile: file, environment: [:])
        }
        do {
            _ = try settings.peerConfigurations()
            _ = try settings.acceptedIDs()
            Issue.record("\(yaml) was accepted")
        } catch {
            #expect(error.message.contains(expected), "\(error.message)")
            #expect(error.message.contains("config file"), "names the file: \(error.message)")
            #expect(!error.message.contains("\n"))
        }
    }

    @Test func aPeerMappingWithAnUnknownKeyOrNoIDIsRefused() async throws {
        for yaml in ["peers:\n  - address: a:1\n", "peers:\n  - id: \(Self.studio)\n    colour: red\n"] {
            await #expect(throws: (any Error).self, "\(yaml)") {
                try await self.withConfigFile(yaml) { file in
                    try await AgentSettings.read(configFile: file, environment: [:])
                }
            }
        }
    }
}
