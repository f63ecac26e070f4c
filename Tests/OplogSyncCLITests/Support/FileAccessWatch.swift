import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Counts the opens and reads of one file in a folder with inotify, so a test can wait for
/// evidence that another process is at work on it (an event, not a timing).
///
/// inotify merges identical events that are still queued, so the count is a lower bound on
/// the accesses: it grows by at least one each time the file is touched between two polls.
final class FileAccessWatch {
    private let descriptor: Int32
    private let fileName: String
    private(set) var accessCount = 0

    /// Starts counting opens and reads of `folder/fileName` from now on.
    init(folder: String, fileName: String) throws {
        // O_CLOEXEC and O_NONBLOCK have the values of IN_CLOEXEC and IN_NONBLOCK.
        let descriptor = inotify_init1(Int32(O_CLOEXEC | O_NONBLOCK))
        guard descriptor >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        guard inotify_add_watch(descriptor, folder, UInt32(IN_OPEN | IN_ACCESS)) >= 0 else {
            let error = errno
            close(descriptor)
            throw POSIXError(POSIXErrorCode(rawValue: error) ?? .EIO)
        }
        self.descriptor = descriptor
        self.fileName = fileName
    }

    deinit {
        close(self.descriptor)
    }

    /// Reads the pending events without blocking and returns the number of accesses seen so far.
    func poll() throws -> Int {
        try self.drainEvents()
        return self.accessCount
    }

    private func drainEvents() throws {
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(self.descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EAGAIN || errno == EWOULDBLOCK { return }
                if errno == EINTR { continue }
                throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
            }
            var offset = 0
            // struct inotify_event { int wd; uint32_t mask; uint32_t cookie; uint32_t len; char name[]; }
            let headerSize = 16
            while offset + headerSize <= count {
                let mask = buffer.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self) }
                let nameLength = Int(buffer.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self) })
                let nameBytes = buffer[(offset + headerSize)..<(offset + headerSize + nameLength)].prefix { $0 != 0 }
                if mask & UInt32(IN_OPEN | IN_ACCESS) != 0, String(decoding: nameBytes, as: UTF8.self) == self.fileName {
                    self.accessCount += 1
                }
                offset += headerSize + nameLength
            }
        }
    }
}
