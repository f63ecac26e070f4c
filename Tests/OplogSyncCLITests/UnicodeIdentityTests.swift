import Foundation
import Testing

/// Actor ids and op ids are compared as code points (DESIGN §3.5; `CanonicalKey` and `OpID` say
/// "by their UTF-8 bytes"), as Python compares them: "é" (U+00E9) and "e" + U+0301 are two
/// different strings, however alike they look.
@Suite("Ids compared by code point")
struct UnicodeIdentityTests {
    @Test("`log --canonical` orders actor ids by code point, not by Unicode equivalence")
    func canonicalOrderUsesCodePoints() async throws {
        try await withTemporaryFolder { folder in
            let commands = SessionCommands(root: folder.path, session: "unicode")
            // Same lamport_ts; actor "\u00e9" (bytes C3 A9) with op "a", actor "e\u0301" (65 CC 81) with op "b".
            let precomposed = museLine(opID: "a", actor: #"\u00e9"#, lamportTimestamp: 1)
            let decomposed = museLine(opID: "b", actor: #"e\u0301"#, lamportTimestamp: 1)
            try commands.files.appendRaw(precomposed + "\n" + decomposed + "\n")
            let canonical = try await commands.log(["--canonical"])
            #expect(canonical.count == 2)
            #expect(canonical.map(\.opID) == ["b", "a"], "U+0065 sorts before U+00E9")
        }
    }

    @Test("a checkpoint's frontier covers only the actor id it names, byte for byte")
    func frontierActorsAreBytes() async throws {
        try await withTemporaryFolder { folder in
            let commands = SessionCommands(root: folder.path, session: "unicode")
            for sequenceNumber in 0..<3 {
                try await commands.append(actor: "\u{E9}", op: #"{"op":"insert","seq":\#(sequenceNumber)}"#)
            }
            _ = try await commands.oplogSync("checkpoint", ["--snapshot", "snap-1"])
            // A late entry from another actor, "e" + U+0301, below the frontier's 3 for "\u00e9".
            let late = museLine(opID: "late-1", actor: #"e\u0301"#, lamportTimestamp: 2, op: #"{"op":"delete"}"#)
            try commands.files.appendRaw(late + "\n")
            let sinceCheckpoint = try await commands.log(["--since-checkpoint"])
            let delta = try await commands.delta()
            #expect(sinceCheckpoint.map(\.opID) == ["late-1"])
            #expect(delta.summary == "1 delete")
        }
    }

    @Test("`verify` does not call two byte-different op ids duplicates")
    func opIDsAreBytes() async throws {
        try await withTemporaryFolder { folder in
            let commands = SessionCommands(root: folder.path, session: "unicode")
            try commands.files.appendRaw(
                museLine(opID: #"op-\u00e9"#, actor: "m", lamportTimestamp: 1) + "\n"
                    + museLine(opID: #"op-e\u0301"#, actor: "m", lamportTimestamp: 2) + "\n"
            )
            let entries = try readEntries(commands.files)
            #expect(Set(entries.map { Array($0.opID.unicodeScalars) }).count == 2, "two different ids")
            let output = try await Programs.oplogSync(["verify", "--root", folder.path])
            #expect(output.exitCode == 0, "\(output)")
        }
    }
}
