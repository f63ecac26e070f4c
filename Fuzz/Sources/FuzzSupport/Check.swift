#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Stops the process with `message` on stderr unless `condition` holds: a property a fuzz
/// target asserts. libFuzzer reports the abort as a crash and keeps the input that caused it.
public func require(
    _ condition: Bool,
    _ message: @autoclosure () -> String,
    file: StaticString = #fileID,
    line: UInt = #line
) {
    guard !condition else { return }
    failProperty(message(), file: file, line: line)
}

/// Stops the process with `message` on stderr: a property was violated.
public func failProperty(_ message: String, file: StaticString = #fileID, line: UInt = #line) -> Never {
    let text = "fuzz property violated at \(file):\(line): \(message)\n"
    let bytes = Array(text.utf8)
    _ = bytes.withUnsafeBufferPointer { buffer in write(2, buffer.baseAddress, buffer.count) }
    abort()
}

/// `bytes` as hex, for property messages (the first 64 bytes, then "…").
public func hex(_ bytes: some Collection<UInt8>) -> String {
    let digits = bytes.prefix(64).map { byte in
        let text = String(byte, radix: 16)
        return byte < 0x10 ? "0" + text : text
    }
    return digits.joined() + (bytes.count > 64 ? "…(\(bytes.count) bytes)" : "")
}
