import FuzzSupport
import OpLog

/// Seeds: lines as `oplog-sync append` and Muse write them, checkpoints in both layouts, and
/// JSON that exercises the grammar's corners.
enum Seeds {
    static func all() -> [(name: String, bytes: [UInt8])] {
        let chain = Fixtures.chain(actor: "studio", firstLamport: 1, count: 6)
        var seeds: [(name: String, bytes: [UInt8])] = chain.enumerated().map { index, entry in
            (name: "line-\(index)", bytes: entry.line)
        }
        let muse = Fixtures.museLine(
            id: "0b8c4e52-5a33-4c8e-9d1e-2f0b3b1f6a70",
            actor: "py",
            lamport: 9,
            parents: ["a", "b"]
        )
        seeds.append((name: "line-muse", bytes: Array(muse.utf8)))
        let lines: [(String, String)] = [
            (
                "line-minimal",
                #"{"op_id":"x","actor_id":"a","lamport_ts":0,"parent_op_ids":[],"domain":"d","domain_op":null}"#
            ),
            (
                "line-unknown-fields",
                #"{"extra":[1,2.50,-0.0,1E400,true,null],"op_id":"y","actor_id":"\u00e9\ud83c\udfb5","lamport_ts":9007199254740991,"parent_op_ids":["x"],"domain":"d","domain_op":{"b":1,"a":{"c":[]}}}"#
            ),
            (
                "line-nan",
                #"{"op_id":"z","actor_id":"a","lamport_ts":3,"parent_op_ids":[],"domain":"d","domain_op":[NaN,Infinity,-Infinity]}"#
            ),
            (
                "line-whitespace",
                " {\t\"op_id\" : \"w\" , \"actor_id\":\"a\",\"lamport_ts\":1e0,\"parent_op_ids\":[ ],\"domain\":\"d\",\"domain_op\":\"\\/\\b\\f\\n\\r\\t\"} "
            ),
        ]
        for (name, text) in lines { seeds.append((name: name, bytes: Array(text.utf8))) }
        seeds.append((name: "checkpoint-made", bytes: Fixtures.checkpoint(snapshot: "s-12", lamport: 12).bytes))
        seeds.append((name: "checkpoint-muse", bytes: Fixtures.museCheckpoint(snapshot: "s-3", lamport: "3")))
        seeds.append(
            (
                name: "checkpoint-poisoned",
                bytes: Fixtures.museCheckpoint(snapshot: "s-x", lamport: "9000000000000000000")
            )
        )
        let values = [
            ("json-numbers", "[0,-0,1.5e-7,123456789012345678901234567890,1E21,0.1,-1e-400,5e-324]"),
            ("json-strings", #"["\u0000\u001f\"\\","\ud800\udc00","€","\u2028"]"#),
            ("json-nested", #"{"a":{"b":{"c":[[[{}]]]}},"":0}"#),
            ("json-duplicate", #"{"a":1,"a":2}"#),
            ("json-lone-surrogate", #""\ud800""#),
        ]
        for (name, text) in values { seeds.append((name: name, bytes: Array(text.utf8))) }
        return seeds
    }
}
