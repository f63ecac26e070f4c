import FuzzSupport
import NIOCore
import OpLogIdentity
import OpLogWire

/// Seeds: hello payloads encoded by `WireMessage.encode` (ours, a read-only one, one with our
/// own id, one with a bad id), built hellos, and node IDs spelt as people paste them.
enum Seeds {
    static func all() -> [(name: String, bytes: [UInt8])] {
        let nonce: [UInt8] = Array(100..<116)
        let hellos: [(String, Hello)] = [
            ("hello-ours", HelloProperties.own),
            (
                "hello-peer",
                Hello(
                    nodeID: "P56IOI7-MZJNU2Y-IQGDREY-DM2MGTI-MGL3BXN-PQ6W5BM-TBBZ4TJ-XZWICQ2",
                    isReadOnly: false,
                    nonce: nonce
                )
            ),
            ("hello-read-only", Hello(nodeID: "alice", isReadOnly: true, takesEntries: false, nonce: nonce)),
            ("hello-own-id", Hello(nodeID: HelloProperties.ownID, isReadOnly: false, nonce: nonce)),
            ("hello-bad-id", Hello(nodeID: "node with spaces", isReadOnly: false, nonce: nonce)),
            ("hello-long-id", Hello(nodeID: String(repeating: "x", count: 65), isReadOnly: false, nonce: nonce)),
        ]
        var seeds: [(name: String, bytes: [UInt8])] = hellos.map { name, hello in
            var buffer = ByteBuffer()
            do {
                try WireMessage.hello(hello).encode(into: &buffer)
            } catch {
                failProperty("a seed hello does not encode: \(error)")
            }
            return (name: name, bytes: [0] + Array(buffer.readableBytesView))
        }
        seeds.append((name: "built-ours", bytes: [1, 0, 0, 0] + nonce + [1]))
        seeds.append((name: "built-peer", bytes: [1, 0, 3, 0] + nonce + [0] + Array("bob-1".utf8)))
        seeds.append((name: "built-old-version", bytes: [1, 250, 0, 3, 1, 0] + nonce + [0] + Array("bob".utf8)))
        let id = HelloProperties.ownID
        for (name, text) in [
            ("id-canonical", id),
            ("id-lower", id.lowercased()),
            ("id-spaces", id.replacing("-", with: " ")),
            ("id-no-dashes", id.filter { $0 != "-" }),
            (
                "id-old-52",
                String(id.filter { $0 != "-" }.enumerated().filter { ($0.offset + 1) % 14 != 0 }.map(\.element))
            ),
            ("id-typo", id.replacing("MFZWI3D", with: "MFZWI3E")),
            ("id-zero", id.replacing("O", with: "0")),
        ] {
            seeds.append((name: name, bytes: [2] + Array(text.utf8)))
        }
        seeds.append((name: "hash-zero", bytes: [3] + Array(repeating: 0, count: 32) + [5, 9]))
        seeds.append((name: "hash-counting", bytes: [3] + Array(0..<32) + [40, 2]))
        return seeds
    }
}
