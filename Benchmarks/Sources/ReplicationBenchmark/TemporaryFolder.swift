import FoundationEssentials

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A fresh folder under the settings' temporary base, registered with ``CleanupRegistry`` until
/// ``remove()`` deletes it with everything in it.
struct TemporaryFolder {
    let path: String

    /// Makes `<base>/<prefix>-XXXXXX` with `mkdtemp(3)`.
    /// - Throws: ``BenchmarkError`` when the folder cannot be made.
    init(base: String, prefix: String) throws(BenchmarkError) {
        var template = Array("\(base)/\(prefix)-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { buffer in
            buffer.baseAddress.flatMap { mkdtemp($0) }
        }
        guard let made else { throw BenchmarkError.systemCall("cannot make a folder under \(base)") }
        self.path = String(cString: made)
        CleanupRegistry.shared.add(folder: self.path)
    }

    /// `path/relative`.
    func appending(_ relative: String) -> String {
        "\(self.path)/\(relative)"
    }

    /// Makes `path/relative` and the folders above it.
    /// - Throws: ``BenchmarkError`` when a folder cannot be made.
    func makeFolder(_ relative: String) throws(BenchmarkError) {
        do {
            try FileManager.default.createDirectory(atPath: self.appending(relative), withIntermediateDirectories: true)
        } catch {
            throw BenchmarkError("cannot make \(self.appending(relative)): \(error)")
        }
    }

    /// Removes the folder and everything in it.
    func remove() {
        try? FileManager.default.removeItem(atPath: self.path)
        CleanupRegistry.shared.remove(folder: self.path)
    }
}
