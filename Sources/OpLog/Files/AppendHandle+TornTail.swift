import SystemPackage

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// The torn end of an append: what a process killed in the middle of `write(2)` leaves.
extension AppendHandle {
    /// The file's size now.
    func size() throws(OpLogError) -> Int64 {
        try self.file.identityAndSize().size
    }

    /// Cuts the file back to `lineStart` when it is still `size` bytes long and ends in an
    /// unfinished line that starts exactly there (the byte before it is `\n`, or it is the
    /// file's start, and no `\n` follows). Returns whether it cut. Only an unfinished line is
    /// ever removed, and no line ending in `\n` is an entry, so no entry can be lost; the file
    /// is checked again just before the cut, so a writer's new bytes are not cut with it.
    /// - Throws: `OpLogError` with code `.io`.
    func cutUnfinishedLine(startingAt lineStart: Int64, size: Int64) throws(OpLogError) -> Bool {
        guard lineStart >= 0, lineStart < size, try self.size() == size else { return false }
        let from = max(lineStart - 1, 0)
        let bytes = try self.file.readBytes(in: from..<size)
        guard bytes.count == Int(size - from) else { return false }
        let tail = lineStart == 0 ? bytes[...] : bytes.dropFirst()
        guard lineStart == 0 || bytes.first == UInt8(ascii: "\n"), !tail.contains(UInt8(ascii: "\n")) else {
            return false
        }
        guard try self.size() == size else { return false }
        guard ftruncate(self.descriptor.rawValue, off_t(lineStart)) == 0 else {
            throw OpLogError(code: .io, message: "cannot cut \(self.path)", cause: Errno(rawValue: errno))
        }
        return true
    }
}
