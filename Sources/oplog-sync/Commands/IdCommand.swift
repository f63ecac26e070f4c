import ArgumentParser
import Configuration
import Foundation
import OpLog
import OpLogAgent
import OpLogIdentity
import SystemPackage

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `oplog-sync id`: prints this node's ID, making its identity first if it has none.
struct IdCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "id",
        abstract: "Print this node's ID (made with its key and certificate on first use).",
        discussion: """
            The ID is the SHA-256 of the node's certificate in Syncthing's device-ID form, eight \
            groups of seven letters and digits: give it to a peer's --peer ID@HOST:PORT or \
            --accept ID. The key and certificate are STATE/identity/key.pem (mode 0600) and \
            cert.pem, made once; back them up, since a node that loses them is a new node to its \
            peers. A damaged identity is an error, never silently remade.
            """
    )

    @Option(
        help: ArgumentHelp("Repository root: the folder holding .muse/ (state in ROOT/.muse/sync).", valueName: "dir")
    )
    var root: String?

    @Option(
        name: .customLong("state-dir"),
        help: ArgumentHelp("The node's state folder (default: ROOT/.muse/sync).", valueName: "dir")
    )
    var stateDirectory: String?

    @Option(
        name: .customLong("config"),
        help: ArgumentHelp("A YAML file of `run` settings, read for state_dir.", valueName: "file")
    )
    var configFile: String?

    func validate() throws {
        if let root, root.isEmpty { throw ValidationError("--root must not be empty") }
        if let stateDirectory, stateDirectory.isEmpty { throw ValidationError("--state-dir must not be empty") }
        if let configFile, configFile.isEmpty { throw ValidationError("--config must not be empty") }
    }

    func run() async throws {
        let stateFolder = try await self.stateFolder()
        let identity: Identity
        do {
            identity = try IdentityStore(stateFolder: stateFolder).loadOrCreate()
        } catch {
            throw RuntimeFailure(error.message)
        }
        var output = StandardOutput()
        output.writeLine(identity.nodeID.description)
        output.flush()
    }

    /// The state folder as `run` finds it: `--state-dir`, else `OPLOG_SYNC_STATE_DIR`, else the
    /// config file's `state_dir`, else `ROOT/.muse/sync`; never inside `ROOT/.muse/op_log/`.
    private func stateFolder() async throws -> FilePath {
        let settings: AgentSettings
        do {
            settings = try await AgentSettings.read(
                options: self.stateDirectory.map { ["state_dir": .string($0)] } ?? [:],
                configFile: self.configFile.map { FilePath($0) },
                environment: ProcessInfo.processInfo.environment
            )
        } catch {
            throw ValidationError(error.message)
        }
        let root = self.root.map { FilePath($0) }
        if let root {
            var info = stat()
            guard stat(root.string, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else {
                throw ValidationError("root \(root) is not a folder")
            }
        }
        let chosen = settings.stateDirectory.map { FilePath($0) }
        guard let stateFolder = chosen ?? root.map({ AgentConfiguration(root: $0).stateDirectory }) else {
            throw ValidationError("id needs --root DIR (its state is in DIR/.muse/sync) or --state-dir DIR")
        }
        if let root {
            let opLog = OpLogLayout(root: root).opLogPath.lexicallyNormalized()
            guard !stateFolder.lexicallyNormalized().starts(with: opLog) else {
                throw ValidationError("state folder \(stateFolder) must not be inside \(opLog)")
            }
        }
        return stateFolder
    }
}
