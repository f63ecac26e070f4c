import Foundation

/// Where the programs under test live, and a private folder per test.
enum TestEnvironment {
    /// The built `oplog-sync` executable: `OPLOG_TEST_BINARY` when set, else the one in the
    /// products folder that holds the running test bundle (`.build…/debug/`).
    static let oplogSyncBinary: String = {
        if let override = ProcessInfo.processInfo.environment["OPLOG_TEST_BINARY"], !override.isEmpty {
            return override
        }
        var candidates: [URL] = []
        if let executable = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            candidates.append(URL(fileURLWithPath: executable))
        }
        candidates.append(URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL)
        candidates += Bundle.allBundles.map(\.bundleURL)
        for candidate in candidates {
            // Walk up from the test binary (or the .xctest bundle on Darwin) to the products folder.
            var folder = candidate.deletingLastPathComponent()
            for _ in 0..<4 {
                let binary = folder.appendingPathComponent("oplog-sync").path
                if FileManager.default.isExecutableFile(atPath: binary) { return binary }
                folder = folder.deletingLastPathComponent()
            }
        }
        // Fails loudly in the first test that runs it, naming what was searched.
        return "/nonexistent/oplog-sync (searched beside \(candidates.map(\.path)); set OPLOG_TEST_BINARY)"
    }()

    /// The package's root folder, found from this source file's path.
    static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // Support
        .deletingLastPathComponent()  // OplogSyncCLITests
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()

    /// `Tests/Interop/muse_like.py`, the stand-in for Muse's own op log code.
    static let museLikeScript: String = Self.packageRoot
        .appendingPathComponent("Tests/Interop/muse_like.py").path

    /// The `python3` found on `PATH`, or `nil` (Python tests are then skipped).
    static let python3: String? = Self.onPath("python3")

    /// Debian's `chromium` found on `PATH`, or `nil` (scripts/setup.sh installs it).
    static let chromium: String? = Self.onPath("chromium")

    /// The executable `name` in the first folder of `PATH` that has one.
    static func onPath(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for folder in path.split(separator: ":") {
            let candidate = "\(folder)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    static var hasPython: Bool { Self.python3 != nil }
}

/// A fresh folder for one test.
struct TemporaryFolder: Sendable {
    let url: URL

    var path: String { self.url.path }

    /// `folder/name`, as a path.
    func path(_ name: String) -> String { self.url.appendingPathComponent(name).path }
}

/// Runs `body` with a fresh folder that is removed afterwards (kept when
/// `OPLOG_TEST_KEEP_FOLDERS` is set, for debugging).
func withTemporaryFolder<T>(
    isolation: isolated (any Actor)? = #isolation,
    _ body: (TemporaryFolder) async throws -> T
) async throws -> T {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("oplog-sync-cli-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    defer {
        if ProcessInfo.processInfo.environment["OPLOG_TEST_KEEP_FOLDERS"] == nil {
            try? FileManager.default.removeItem(at: url)
        }
    }
    return try await body(TemporaryFolder(url: url))
}
