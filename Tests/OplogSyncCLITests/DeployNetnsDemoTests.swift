import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// DESIGN §8, deploy/, and issue #13 item 9: `deploy/netns-demo.sh` brings up three hosts in
/// network namespaces, replicates a session across them over their own addresses (mutual TLS,
/// pinned IDs), shows that a fourth host nobody paired with gets nothing, and tears everything
/// down; without root it refuses in one line. CI runs as root, so there it runs in full.
@Suite("deploy: the three-host network namespace demo")
struct DeployNetnsDemoTests {
    private static var script: String {
        TestEnvironment.packageRoot.appendingPathComponent("deploy/netns-demo.sh").path
    }

    @Test(
        "as root: three namespaces converge over TLS, a fourth unpaired one gets nothing, and nothing is left behind",
        .enabled(if: getuid() == 0)
    )
    func convergesAcrossNamespaces() async throws {
        let output = try await Programs.run(
            "/bin/bash",
            [Self.script, TestEnvironment.oplogSyncBinary],
            input: nil,
            timeout: .seconds(300)
        )
        #expect(output.exitCode == 0, "\(output)")
        #expect(
            output.stdout.contains("converged across three namespaces, the fourth refused; all daemons exited 0"),
            "\(output)"
        )
        #expect(output.stdout.contains("stranger: no session received; the studio lists it as pending"), "\(output)")
        for host in ["studio", "laptop", "backup"] {
            #expect(output.stdout.contains("[\(host)] oplog-sync status"), "\(host)'s status is shown")
            #expect(output.stdout.contains("\(host): 5 lines, checkpoint take-1"), "\(output.stdout)")
        }
        #expect(output.stdout.contains("listening on 10.77.0.1:7420"), "the studio's status names its own address")
        // Its namespaces are gone: their names carry the script's tag.
        let tag = try #require(output.stdout.firstMatch(of: /network namespaces (osd[0-9]+)-/)?.output.1)
        let namespaces = try await Programs.run("/usr/sbin/ip", ["netns", "list"], input: nil, timeout: .seconds(30))
        #expect(!namespaces.stdout.contains(String(tag)), "left behind: \(namespaces.stdout)")
    }

    @Test("without root: one line saying it needs root, exit 1, nothing made")
    func refusesWithoutRoot() async throws {
        // As root, setpriv drops to nobody for this one run. The checkout may be in a folder
        // only root can enter (a CI's temporary clone), so nobody runs a copy of the script from
        // a folder anyone can read: it refuses before it looks at anything else.
        let isRoot = getuid() == 0
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("netns-demo-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let script = folder.appendingPathComponent("netns-demo.sh").path
        try FileManager.default.copyItem(atPath: Self.script, toPath: script)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: folder.path)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: script)
        let command =
            isRoot ? ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "/bin/bash"] : ["/bin/bash"]
        let output = try await Programs.run(
            command[0],
            Array(command.dropFirst()) + [script, TestEnvironment.oplogSyncBinary],
            input: nil,
            timeout: .seconds(60)
        )
        #expect(output.exitCode == 1, "\(output)")
        #expect(output.stderrLines.count == 1, "\(output)")
        #expect(output.stderr.contains("needs root"), "\(output)")
        #expect(output.stdout.isEmpty, "\(output)")
    }
}
