import SystemPackage

// `struct stat` may be attributed to CoreFoundation's module or to Glibc's, depending on which
// of the two a build's module cache read the header for first; with MemberImportVisibility its
// members need that module imported here, so both are.
#if canImport(CoreFoundation)
import CoreFoundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The few durable file operations the identity needs, as the agent's state folder does them:
/// new files `fsync`ed before they are renamed into place, and the folder holding a new name
/// `fsync`ed after.
enum DurableFiles {
    /// Creates `path` as a folder with `permissions` (missing parents with 0755, as `mkdir -p`),
    /// syncing the folder above each one created; does nothing when it is already a folder.
    ///
    /// - Throws: `Errno` (`.notDirectory` when it, or a parent, is something else).
    static func makeFolder(_ path: FilePath, permissions: mode_t) throws(Errno) {
        let parent = path.removingLastComponent()
        for attempt in 0..<2 {
            if mkdir(path.string, permissions) == 0 {
                try Self.syncFolder(parent.isEmpty ? "." : parent)
                return
            }
            let error = Errno(rawValue: errno)
            switch error {
            case .fileExists:
                var info = stat()
                try SystemCall.retrying { stat(path.string, &info) }
                guard info.st_mode & S_IFMT == S_IFDIR else { throw Errno.notDirectory }
                return
            case .noSuchFileOrDirectory where attempt == 0 && !parent.isEmpty && parent != path:
                try Self.makeFolder(parent, permissions: 0o755)
            default:
                throw error
            }
        }
        throw Errno.noSuchFileOrDirectory
    }

    /// Writes `bytes` to a new file at `path` (which must not exist) with exactly `permissions`
    /// (whatever the umask), and `fsync`s it.
    static func writeNewFile(_ path: FilePath, _ bytes: [UInt8], permissions: mode_t) throws {
        let descriptor = try FileDescriptor.open(
            path,
            .writeOnly,
            options: [.create, .exclusiveCreate, .noFollow, .closeOnExec],
            permissions: FilePermissions(rawValue: permissions)
        )
        try descriptor.closeAfter {
            try SystemCall.retrying { fchmod(descriptor.rawValue, permissions) }
            _ = try descriptor.writeAll(bytes)
            try SystemCall.retrying { fsync(descriptor.rawValue) }
        }
    }

    /// The mode (type and permission bits) of the open file `descriptor`.
    static func mode(of descriptor: FileDescriptor) throws(Errno) -> mode_t {
        var info = stat()
        try SystemCall.retrying { fstat(descriptor.rawValue, &info) }
        return info.st_mode
    }

    /// `fsync`s the folder at `path`, so the names created, renamed or removed in it last.
    static func syncFolder(_ path: FilePath) throws(Errno) {
        let folder = open(path.string, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard folder >= 0 else { throw Errno(rawValue: errno) }
        defer { close(folder) }
        try SystemCall.retrying { fsync(folder) }
    }

    /// Removes the folder at `path` and the files named `names` in it, as far as they exist.
    /// Best effort and not synced: for temporary folders nobody else uses.
    static func removeFolder(_ path: FilePath, holding names: [String]) {
        for name in names { _ = unlink(path.appending(name).string) }
        _ = rmdir(path.string)
    }
}

/// System calls that return -1 and set `errno` on failure.
enum SystemCall {
    /// Runs `body` until it returns anything but -1 with `EINTR`; throws `errno` for -1.
    static func retrying(_ body: () -> Int32) throws(Errno) {
        while body() == -1 {
            guard errno == EINTR else { throw Errno(rawValue: errno) }
        }
    }
}
