import Foundation
import Testing

/// DESIGN §7, "values stay in range": `lamport_ts` is an integer in [0, 2^53 − 1]. A line outside
/// it is not an entry anywhere; a session whose greatest timestamp is the limit makes `append` a
/// one-line error (one injected entry with `lamport_ts` 9223372036854775807 used to make every
/// replica's `append` trap).
@Suite("Lamport timestamps at the limit")
struct LamportLimitTests {
    static let limit = 9_007_199_254_740_991

    @Test("`append` on a session that holds lamport_ts 2^53 − 1 is a one-line error and writes nothing")
    func appendAtTheLimitIsAnError() async throws {
        try await withTemporaryFolder { folder in
            let commands = SessionCommands(root: folder.path, session: "top")
            try commands.files.appendRaw(museLine(actor: "muse", lamportTimestamp: Self.limit) + "\n")
            let before = commands.files.opsBytes()
            let output = try await Programs.oplogSync([
                "append", "--root", folder.path, "--session", "top", "--actor", "cli", "--domain", "music",
                "--op", #"{"op":"insert"}"#,
            ])
            #expect(output.exitCode != 0, "\(output)")
            #expect(output.exitCode != 132 && output.exitCode != 133, "no trap: \(output)")
            #expect(output.stderrLines.count == 1, "\(output)")
            #expect(output.stderr.contains("2^53 − 1"), "\(output)")
            #expect(output.stdout.isEmpty, "\(output)")
            #expect(commands.files.opsBytes() == before, "nothing written")
        }
    }

    @Test("lines above 2^53 − 1 are not entries: the node ships the rest, `append` goes on from the greatest valid timestamp")
    func linesAboveTheLimitAreRefusedAndReplicationGoesOn() async throws {
        try await withAgentCluster { cluster in
            let a = try await cluster.start("A")
            let b = try await cluster.start("B", peers: [a])
            let session = "poison"
            let files = a.files(session)
            let valid = (1...5).map { museLine(actor: "muse", lamportTimestamp: $0) }
            let huge = museLine(opID: "huge-1", actor: "evil", lamportTimestamp: Int.max)
            let over = museLine(opID: "over-1", actor: "evil", lamportTimestamp: Self.limit + 1)
            try files.appendRaw((valid.prefix(3) + [huge, over] + valid.suffix(2)).joined(separator: "\n") + "\n")
            try await waitFor("B to hold A's five valid lines") {
                let lines = b.files(session).completeLines()
                return valid.allSatisfy { lines.contains(Array($0.utf8)) } ? nil : b.logTail()
            }
            let onB = b.files(session).completeLines()
            #expect(!onB.contains(Array(huge.utf8)) && !onB.contains(Array(over.utf8)), "never shipped")
            try await waitFor("A to say why the two lines were not shipped") {
                a.logText().split(separator: "\n").filter { $0.contains("local line not shipped") && $0.contains("2^53") }
                    .count == 2 ? nil : a.logTail()
            }
            // The clock goes on from 5 on both replicas, and replication with it.
            let appended = try await appendOps(a, session: session, actor: "cli", count: 1)
            try await waitFor("B to hold the new entry") { holdsGap(b.replica(session), appended) }
            let entries = try readEntries(b.files(session))
            #expect(entries.last?.lamportTimestamp == 6, "\(entries.map(\.lamportTimestamp))")
        }
    }
}
