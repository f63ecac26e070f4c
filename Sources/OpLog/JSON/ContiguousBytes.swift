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
