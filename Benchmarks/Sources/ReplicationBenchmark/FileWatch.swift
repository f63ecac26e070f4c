#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An inotify instance watching one file for `IN_MODIFY`: how both the floor's tail and the
/// arrival reader learn that bytes were appended, as a replication sender would.
struct FileWatch: Sendable {
    private let descriptor: Int32

    /// Watches `path`, which must exist.
    /// - Throws: ``BenchmarkError`` when inotify cannot be set up.
    init(_ path: String) throws(BenchmarkError) {
        self.descriptor = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        guard self.descriptor >= 0 else { throw BenchmarkError.systemCall("inotify_init1") }
        guard inotify_add_watch(self.descriptor, path, UInt32(IN_MODIFY)) >= 0 else {
            let code = errno
            closeDescriptor(self.descriptor)
            throw BenchmarkError.systemCall("cannot watch \(path)", errno: code)
        }
    }

    /// Waits until the file was modified or `timeoutMilliseconds` passed, then drains the queued
    /// events; returns whether there were any.
    func wait(timeoutMilliseconds: Int32) -> Bool {
        var poller = pollfd(fd: self.descriptor, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, timeoutMilliseconds) > 0 else { return false }
        var events = [UInt8](repeating: 0, count: 4096)
        while events.withUnsafeMutableBytes({ read(self.descriptor, $0.baseAddress, $0.count) }) > 0 {}
        return true
    }

    func close() {
        closeDescriptor(self.descriptor)
    }
}
