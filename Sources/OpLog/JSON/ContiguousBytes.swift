#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Calls `body` with the bytes of `collection` in contiguous memory, copying only when the
/// collection does not already store them contiguously.
func withContiguousBytes<Result, Failure: Error>(
    of collection: some Collection<UInt8>,
    _ body: (UnsafeBufferPointer<UInt8>) throws(Failure) -> Result
) throws(Failure) -> Result {
    let outcome: Swift.Result<Result, Failure>? = collection.withContiguousStorageIfAvailable { buffer in
        Swift.Result { () throws(Failure) in try body(buffer) }
    }
    if let outcome {
        return try outcome.get()
    }
    let copy = Array(collection)
    return try copy.withUnsafeBufferPointer { buffer throws(Failure) in try body(buffer) }
}

/// Whether `bytes` hold a `\n` anywhere: one `memchr`, which looks at many bytes per step.
func containsNewline(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
    guard let base = bytes.baseAddress else { return false }
    return memchr(base, Int32(UInt8(ascii: "\n")), bytes.count) != nil
}
