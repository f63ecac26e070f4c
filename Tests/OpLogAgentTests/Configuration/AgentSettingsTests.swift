import Foundation
import OpLogAgent
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
        #expect(settings.peers == ["a:1", "b:2"])
        #expect(settings.nodeID == "studio")
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
        #expect(settings.peers == ["c:3", "d:4"])
        #expect(settings.synchronizeWrites == false)
        #expect(settings.isReadOnly == nil)
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
}
