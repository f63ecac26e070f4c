public import SystemPackage

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A fresh folder under `$OPLOG_BENCH_TMPDIR` (default `/tmp`), removed with everything in it
/// by ``remove()``.
public struct TemporaryFolder: Sendable {
    public let path: FilePath

    /// Makes `<base>/<prefix>-XXXXXX` with `mkdtemp(3)`.
    public init(prefix: String) throws {
        let base = getenv("OPLOG_BENCH_TMPDIR").map { String(cString: $0) } ?? "/tmp"
        var template = Array("\(base)/\(prefix)-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { buffer in
            buffer.baseAddress.flatMap { mkdtemp($0) }
        }
        guard let made else { throw Errno(rawValue: errno) }
        self.path = FilePath(String(cString: made))
    }

    /// Removes the folder and everything in it; symbolic links are removed, never followed.
    public func remove() {
        Self.removeTree(self.path)
    }

    private static func removeTree(_ path: FilePath) {
        var info = stat()
        guard path.withPlatformString({ lstat($0, &info) }) == 0 else { return }
        if info.st_mode & S_IFMT == S_IFDIR {
            if let stream = path.withPlatformString({ opendir($0) }) {
                var names: [String] = []
                while let entry = readdir(stream) {
                    let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                        String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
                    }
                    if name != "." && name != ".." { names.append(name) }
                }
                closedir(stream)
                for name in names { Self.removeTree(path.appending(name)) }
            }
            _ = path.withPlatformString { rmdir($0) }
        } else {
            _ = path.withPlatformString { unlink($0) }
        }
    }
}
