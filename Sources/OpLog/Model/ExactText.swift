#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Text compared and hashed by its Unicode code points (its UTF-8 bytes), as Python compares
/// strings; Swift's `String` equality instead treats canonically equivalent spellings as equal
/// (`"\u{E9}"` and `"e\u{301}"`), which would merge distinct ids, actors or keys.
package struct ExactText: Hashable, Sendable {
    package let text: String

    package init(_ text: String) {
        self.text = text
    }

    package static func == (lhs: ExactText, rhs: ExactText) -> Bool {
        let left = lhs.text.utf8
        let right = rhs.text.utf8
        guard left.count == right.count else { return false }
        // Native strings are contiguous: compare the bytes with memcmp (the generic
        // `elementsEqual`, over UTF8View or even over buffers, was the top cost of dictionary
        // lookups by op id).
        let compared = left.withContiguousStorageIfAvailable { leftBytes in
            right.withContiguousStorageIfAvailable { rightBytes in
                guard let leftBase = leftBytes.baseAddress, let rightBase = rightBytes.baseAddress else {
                    return leftBytes.count == rightBytes.count
                }
                return memcmp(leftBase, rightBase, leftBytes.count) == 0
            }
        }
        if let compared, let isEqual = compared { return isEqual }
        return left.elementsEqual(right)
    }

    package func hash(into hasher: inout Hasher) {
        let hashed: Void? = self.text.utf8.withContiguousStorageIfAvailable {
            hasher.combine(bytes: UnsafeRawBufferPointer($0))
        }
        if hashed == nil {
            for byte in self.text.utf8 { hasher.combine(byte) }
        }
        hasher.combine(0xFF as UInt8)  // not a UTF-8 byte: ends the text unambiguously
    }

    /// Code point order.
    static func precedes(_ lhs: String, _ rhs: String) -> Bool {
        lhs.utf8.lexicographicallyPrecedes(rhs.utf8)
    }
}
