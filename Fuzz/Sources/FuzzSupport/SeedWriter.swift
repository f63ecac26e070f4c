#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes a target's seed corpus when the environment asks for it.
///
/// `scripts/fuzz.sh --seeds` runs each target once with `OPLOG_FUZZ_WRITE_SEEDS=<folder>`: the
/// target's `LLVMFuzzerInitialize` then writes its seeds there (made by the real encoders and
/// the real engine) and exits before libFuzzer starts. Without the variable it does nothing.
public enum SeedWriter {
    /// The environment variable naming the folder to write seeds into.
    public static let variable = "OPLOG_FUZZ_WRITE_SEEDS"

    /// When ``variable`` is set, writes `seeds()` into that folder, one file per seed named
    /// `<name>` (names must be unique), and exits; otherwise returns without calling `seeds`.
    public static func writeIfAsked(_ seeds: () -> [(name: String, bytes: [UInt8])]) {
        guard let folder = getenv(Self.variable).map({ String(cString: $0) }), !folder.isEmpty else { return }
        var names = Set<String>()
        for seed in seeds() {
            require(names.insert(seed.name).inserted, "seed name \(seed.name) is used twice")
            let path = folder + "/" + seed.name
            guard let file = fopen(path, "wb") else { failProperty("cannot create seed file \(path)") }
            let written = seed.bytes.withUnsafeBufferPointer { buffer in
                fwrite(buffer.baseAddress, 1, buffer.count, file)
            }
            require(written == seed.bytes.count && fclose(file) == 0, "cannot write seed file \(path)")
        }
        exit(0)
    }
}
