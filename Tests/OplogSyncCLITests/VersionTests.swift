import Foundation
import Testing

/// DESIGN §5: `oplog-sync --version` prints one line, the name and the version, and exits 0.
@Suite("version")
struct VersionTests {
    @Test("`--version` prints `oplog-sync MAJOR.MINOR.PATCH` and exits 0")
    func versionIsOneLine() async throws {
        let output = try await Programs.oplogSync(["--version"])
        #expect(output.exitCode == 0, "\(output)")
        #expect(output.stdoutLines.count == 1, "\(output)")
        let line = try #require(output.stdoutLines.first)
        #expect(line.wholeMatch(of: /oplog-sync \d+\.\d+\.\d+/) != nil, "\(output)")
        #expect(output.stderr.isEmpty, "\(output)")
    }

    @Test("`--help` mentions `--version`")
    func helpMentionsVersion() async throws {
        let output = try await Programs.oplogSync(["--help"])
        #expect(output.exitCode == 0, "\(output)")
        #expect(output.stdout.contains("--version"), "\(output)")
    }
}
