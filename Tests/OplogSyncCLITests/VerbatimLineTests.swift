import Foundation
import Testing

/// DESIGN §2: "Unknown fields are kept. A replicated line is byte-for-byte the line its origin
/// wrote" — `log` prints lines as stored, whatever the writer's spelling.
@Suite(
    "Lines printed byte for byte",
    .enabled(if: TestEnvironment.hasPython, "python3 is not on PATH: skipping the Muse interop tests")
)
struct VerbatimLineTests {
    @Test("unknown fields and \\u escapes (é, a surrogate pair) survive `log` and `log --canonical`")
    func unknownFieldsAndEscapesSurvive() async throws {
        try await withTemporaryFolder { folder in
            let commands = SessionCommands(root: folder.path, session: "verbatim")
            // Muse's writer: ensure_ascii turns é into \u00e9 and 🎵 into \ud83c\udfb5.
            let museID = try await commands.museAppend(
                actor: "muse-é",
                lamportTimestamp: 5,
                op: #"{"op":"insert","text":"café 🎵","pitch":61,"velocity":0.5}"#,
                extraArguments: ["--extra", #"{"x_origin":{"host":"studio","tags":["é",null,true]},"zz_weight":1e3}"#]
            )
            // Another writer's spelling: spaces, unknown field first, \/ and raw UTF-8, 1.50.
            let handWritten =
                #"{"x_first": [1, 2.50, {"k": "\/path"}], "op_id": "hand-1", "actor_id": "h\u00E9", "lamport_ts": 2, "#
                + #""parent_op_ids": [], "domain": "music", "domain_op": {"op": "delete", "note": "naïve ♫", "n": 1.50}, "#
                + #""created_at": "2026-11-25T21:40:58+00:00", "intent_id": "i-1", "reservation_id": ""}"#
            try commands.files.appendRaw(handWritten + "\n")
            let ourID = try await commands.append(actor: "cli", op: #"{"op":"move","seq":0}"#)

            let fileLines = splitCompleteLines(commands.files.opsBytes())
            try #require(fileLines.count == 3)
            let museText = fileLines[0].text
            #expect(museText.contains(#""text":"caf\u00e9 \ud83c\udfb5""#), "Muse wrote escapes: \(museText)")
            #expect(museText.contains(#""x_origin":{"host":"studio","tags":["\u00e9",null,true]}"#), "\(museText)")
            #expect(try ParsedEntry(line: fileLines[0]).opID == museID)
            #expect(fileLines[1].text == handWritten)
            #expect(try ParsedEntry(line: fileLines[2]).opID == ourID)

            let log = try await commands.oplogSync("log")
            #expect(log.standardOutput.text == commands.files.opsBytes().text, "log prints the file's bytes")
            let canonical = splitCompleteLines(try await commands.oplogSync("log", ["--canonical"]).standardOutput)
            // Canonical order: hand-1 (2), then Muse's (5), then ours (6).
            #expect(canonical.map(\.text) == [fileLines[1], fileLines[0], fileLines[2]].map(\.text))
        }
    }

    @Test("entries Muse writes with NaN or Infinity (json.dumps' default allow_nan) count as entries")
    func museNonFiniteNumbersAreEntries() async throws {
        try await withTemporaryFolder { folder in
            let commands = SessionCommands(root: folder.path, session: "nan")
            try await commands.museAppend(actor: "muse", lamportTimestamp: 1, op: #"{"op":"velocity","v":NaN}"#)
            try await commands.museAppend(actor: "muse", lamportTimestamp: 2, op: #"{"op":"insert","gain":-Infinity}"#)
            let fileText = commands.files.opsBytes().text
            #expect(fileText.contains(#""v":NaN}"#) && fileText.contains(#""gain":-Infinity}"#), "Muse wrote: \(fileText)")
            #expect(try await commands.museLike("read", ["--jsonl"]).stdoutLines.count == 2, "Muse's reader reads both")

            let opID = try await commands.append(actor: "cli", op: #"{"op":"move"}"#)
            // (Foundation's parser refuses NaN: parse only our own line.)
            let ours = try commands.files.completeLines().last.map { try ParsedEntry(line: $0) }
            #expect(ours?.opID == opID)
            let log = try await commands.oplogSync("log")
            // The delta holds NaN, which Foundation's parser refuses: check the text Python would print.
            let delta = try await commands.oplogSync("delta", ["--domain", "music"]).standardOutput.text
            let museDelta = try await commands.museLike("delta", ["music"]).stdout
            #expect(ours?.lamportTimestamp == 3, "above Muse's lamport_ts 2 (DESIGN §3.6)")
            #expect(log.stdoutLines.count == 3, "\(log)")
            #expect(museDelta.contains(#""summary": "1 insert, 1 move, 1 velocity""#), "\(museDelta)")
            #expect(
                delta
                    == #"{"domain":"music","ops":[{"op":"velocity","v":NaN},{"op":"insert","gain":-Infinity},{"op":"move"}],"#
                    + #""summary":"1 insert, 1 move, 1 velocity"}"# + "\n"
            )
        }
    }
}
