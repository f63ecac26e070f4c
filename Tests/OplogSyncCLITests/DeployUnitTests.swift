import Foundation
import Testing

/// DESIGN §8, deploy/: both systemd units pass `systemd-analyze verify` as installed (with this
/// build as their ExecStart binary), warnings included, and their hardening keeps the exposure
/// score of `systemd-analyze security` at 2.5 or below. scripts/setup.sh installs systemd's tools
/// when they are missing.
@Suite("deploy: systemd units")
struct DeployUnitTests {
    @Test("oplog-sync.service and oplog-sync@.service pass systemd-analyze verify and security")
    func unitsVerify() async throws {
        let script = TestEnvironment.packageRoot.appendingPathComponent("scripts/verify-units.sh").path
        let output = try await Programs.run("/bin/bash", [script, TestEnvironment.oplogSyncBinary], input: nil, timeout: .seconds(120))
        #expect(output.exitCode == 0, "\(output)")
        #expect(output.stdout.contains("pass"), "\(output)")
    }
}
