import CInotifyTools
import Foundation
import Testing

@testable import OpLogWatch

/// Proves the system-library target links libinotifytools and that it reports a real write.
@Suite("libinotifytools")
struct CInotifyToolsTests {
    @Test func watchesAFolderAndSeesAWrite() async throws {
        // libinotifytools is process-global: wait for the watcher tests to release it.
        try await InotifyToolsOwnership.withClaim { try self.watchAndWrite() }
    }

    private func watchAndWrite() throws {
        let folder = NSTemporaryDirectory() + "/inotify-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer {
            inotifytools_cleanup()
            try? FileManager.default.removeItem(atPath: folder)
        }
        #expect(inotifytools_initialize() != 0, "inotifytools_initialize failed: errno \(inotifytools_error())")
        let mask = Int32(IN_MODIFY | IN_CLOSE_WRITE | IN_CREATE)
        #expect(inotifytools_watch_recursively(folder, mask) != 0)
        let file = folder + "/ops.jsonl"
        try Data("{\"op_id\":\"a\"}\n".utf8).write(to: URL(fileURLWithPath: file))

        var seen: [String] = []
        // Bounded: at most 20 events, each waited for at most 5 seconds.
        for _ in 0..<20 {
            guard let event = inotifytools_next_event(5) else { break }
            let name = withUnsafePointer(to: event.pointee) { _ in
                String(cString: inotifytools_filename_from_wd(event.pointee.wd)) + "|" + String(event.pointee.mask)
            }
            seen.append(name)
            if event.pointee.mask & UInt32(IN_CLOSE_WRITE) != 0 { break }
        }
        #expect(seen.contains { $0.hasPrefix(folder) && (UInt32($0.split(separator: "|").last ?? "") ?? 0) & UInt32(IN_CLOSE_WRITE) != 0 })
    }
}
