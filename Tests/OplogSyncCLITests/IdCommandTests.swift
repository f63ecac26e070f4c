import Foundation
import OpLogIdentity
import SystemPackage
import Testing

/// DESIGN §5: `oplog-sync id [--root DIR] [--state-dir DIR]` prints this node's ID and nothing
/// else, making the identity first if the state folder has none (§7).
@Suite("`id` prints the node ID")
struct IdCommandTests {
    @Test("the same ID twice, from files made once with modes 0600 and 0644")
    func sameIDTwice() async throws {
        try await withTemporaryFolder { folder in
            let root = folder.path("root")
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
            let first = try await Programs.oplogSync(["id", "--root", root], timeout: .seconds(60))
            #expect(first.exitCode == 0, "\(first)")
            #expect(first.stderr.isEmpty, "\(first)")
            #expect(first.stdoutLines.count == 1, "\(first)")
            let id = try #require(first.stdoutLines.first)
            #expect(id.wholeMatch(of: /[A-Z2-7]{7}(-[A-Z2-7]{7}){7}/) != nil, "\(first)")

            let identity = FilePath(root).appending(".muse/sync/identity")
            let key = identity.appending("key.pem")
            let certificate = identity.appending("cert.pem")
            #expect(try Self.mode(key) == 0o600)
            #expect(try Self.mode(certificate) == 0o644)
            let keyBytes = FileManager.default.contents(atPath: key.string)
            // The ID is the hash of the certificate on disk.
            let stored = try #require(try IdentityStore(stateFolder: FilePath(root).appending(".muse/sync")).load())
            #expect(stored.nodeID.description == id)

            let second = try await Programs.oplogSync(["id", "--root", root], timeout: .seconds(60))
            #expect(second.stdout == first.stdout, "\(second)")
            #expect(second.exitCode == 0 && second.stderr.isEmpty, "\(second)")
            #expect(FileManager.default.contents(atPath: key.string) == keyBytes, "the key is not remade")

            // The state folder named directly is the same node.
            let direct = try await Programs.oplogSync(
                ["id", "--state-dir", FilePath(root).appending(".muse/sync").string],
                timeout: .seconds(60)
            )
            #expect(direct.stdout == first.stdout, "\(direct)")
        }
    }

    @Test("a fresh --state-dir is made 0700 and holds only the identity")
    func freshStateFolder() async throws {
        try await withTemporaryFolder { folder in
            let state = folder.path("nested/state")
            let output = try await Programs.oplogSync(["id", "--state-dir", state], timeout: .seconds(60))
            #expect(output.exitCode == 0, "\(output)")
            #expect(try Self.mode(FilePath(state)) == 0o700)
            #expect(try FileManager.default.contentsOfDirectory(atPath: state) == ["identity"])
        }
    }

    @Test("a broken identity is a one-line error naming the file, and is not remade")
    func brokenIdentity() async throws {
        try await withTemporaryFolder { folder in
            let state = FilePath(folder.path("state"))
            let made = try await Programs.oplogSync(["id", "--state-dir", state.string], timeout: .seconds(60))
            #expect(made.exitCode == 0, "\(made)")
            let key = state.appending("identity/key.pem")
            let certificate = state.appending("identity/cert.pem")

            try FileManager.default.removeItem(atPath: key.string)
            let missingKey = try await Programs.oplogSync(["id", "--state-dir", state.string], timeout: .seconds(60))
            expectOneLineError(missingKey)
            #expect(missingKey.exitCode == 1, "\(missingKey)")
            #expect(missingKey.stderr.contains(certificate.string), "\(missingKey)")
            #expect(!FileManager.default.fileExists(atPath: key.string), "no new key")

            try Data("not a key\n".utf8).write(to: URL(fileURLWithPath: key.string))
            #expect(chmod(key.string, 0o600) == 0)
            let garbage = try await Programs.oplogSync(["id", "--state-dir", state.string], timeout: .seconds(60))
            expectOneLineError(garbage)
            #expect(garbage.stderr.contains(key.string), "\(garbage)")
        }
    }

    @Test(
        "neither --root nor --state-dir, a missing root, or state inside op_log/ is a usage error",
        arguments: [[], ["--root", "no-such-root"], ["--root", "root", "--state-dir", "root/.muse/op_log/sync"]]
    )
    func usageErrors(arguments: [String]) async throws {
        try await withTemporaryFolder { folder in
            try FileManager.default.createDirectory(atPath: folder.path("root"), withIntermediateDirectories: true)
            let absolute = arguments.enumerated().map { $0.offset % 2 == 1 ? folder.path($0.element) : $0.element }
            let output = try await Programs.oplogSync(["id"] + absolute, timeout: .seconds(60))
            expectOneLineError(output)
            #expect(output.exitCode == 64, "\(output)")
            #expect(
                try FileManager.default.subpathsOfDirectory(atPath: folder.path) == ["root"],
                "nothing made"
            )
        }
    }

    private static func mode(_ path: FilePath) throws -> UInt16 {
        let attributes = try FileManager.default.attributesOfItem(atPath: path.string)
        return try #require((attributes[.posixPermissions] as? NSNumber)?.uint16Value)
    }
}
