import Foundation
import NIOCore
import OpLogWire
import Testing

/// Seeded fuzzing of `WireMessage(decoding:)`: random payloads and mutated valid payloads.
///
/// Every input must yield a message or a `WireError`; a payload that decodes must re-encode to
/// the same bytes (the encoding is canonical). Set `WIRE_FUZZ_SEED` to replay one seed.
@Suite struct WireMessageFuzzTests {
    static let seeds: Range<UInt64> = {
        if let text = ProcessInfo.processInfo.environment["WIRE_FUZZ_SEED"], let seed = UInt64(text) {
            return seed..<(seed + 1)
        }
        return 0..<4000
    }()

    @Test func decodingIsTotalAndCanonical() throws {
        let valid = try sampleMessages.map { try payloadBytes($0) }
        var decoded = 0
        var rejected = 0
        for seed in Self.seeds {
            var random = SplitMix64(seed: seed)
            let input = Self.makeInput(valid: valid, random: &random)
            let message: WireMessage
            do {
                message = try decode(input)
            } catch {
                rejected += 1
                #expect(!error.message.isEmpty, "seed \(seed)")
                continue
            }
            decoded += 1
            #expect(try payloadBytes(message) == input, "seed \(seed): decoded payload re-encodes differently")
        }
        // The generator must exercise both outcomes, or the loop proves nothing.
        if Self.seeds.count > 1 {
            #expect(decoded > 100)
            #expect(rejected > 1000)
        }
    }

    private static func makeInput(valid: [[UInt8]], random: inout SplitMix64) -> [UInt8] {
        switch Int.random(in: 0..<4, using: &random) {
        case 0:
            // Random bytes, usually behind a known type byte.
            let length = Int.random(in: 0..<48, using: &random)
            var bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &random) }
            let types: [UInt8] = [0x01, 0x02, 0x03, 0x10, 0x11, 0x12, 0x13]
            if !bytes.isEmpty, Int.random(in: 0..<4, using: &random) != 0, let type = types.randomElement(using: &random) {
                bytes[0] = type
            }
            return bytes
        case 1:
            // A valid payload with a few bytes overwritten.
            var bytes = valid.randomElement(using: &random) ?? []
            for _ in 0..<(1 + Int.random(in: 0..<3, using: &random)) where !bytes.isEmpty {
                bytes[Int.random(in: bytes.indices, using: &random)] = UInt8.random(in: 0...255, using: &random)
            }
            return bytes
        case 2:
            // A valid payload cut short or extended.
            let bytes = valid.randomElement(using: &random) ?? []
            let cut = Int.random(in: 0...bytes.count, using: &random)
            let extra = (0..<Int.random(in: 0..<3, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
            return Array(bytes.prefix(cut)) + extra
        default:
            // A valid payload, unchanged or with one byte of a length field bumped.
            var bytes = valid.randomElement(using: &random) ?? []
            if Int.random(in: 0..<2, using: &random) == 0, bytes.count > 4 {
                let index = Int.random(in: 1..<min(bytes.count, 12), using: &random)
                bytes[index] = bytes[index] &+ 1
            }
            return bytes
        }
    }
}
