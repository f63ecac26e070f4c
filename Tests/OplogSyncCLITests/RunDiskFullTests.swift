import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

extension RunProcessTests {
    /// A receiver whose disk fills up: its appends fail (ENOSPC), are retried, and once there is
    /// room again every entry lands exactly once, as whole lines, parents first.
    @Suite("A full disk on the receiver")
    struct DiskFullTests {
        static let isRoot = ConditionTrait.enabled(if: getuid() == 0, "mounting a small tmpfs needs root")

        @Test("B's root on a full 1 MiB tmpfs: appends fail and are retried; freed, B gets all 300 entries once, no half lines", Self.isRoot)
        func fullDiskOnTheReceiver() async throws {
            let session = "full"
            try await withAgentCluster { cluster in
                let a = try await cluster.start("A")
                let b = try cluster.add("B", peers: [try a.peerArgument()])
                try mountTmpfs(at: b.root, size: "1m")
                defer { _ = umount2(b.root, Int32(MNT_DETACH)) }
                try await b.start()
                let seeded = try await appendOps(a, session: session, actor: "writer-a", count: 20)
                try await cluster.expectConverged(session, on: [a, b], expectedOpIDs: Set(seeded))

                let filler = "\(b.root)/filler"
                try fillUntilFull(filler)
                let whileFull = try await appendOps(a, session: session, actor: "writer-a", count: 300)
                try await waitFor("B's log to report a failed append") {
                    b.logText().contains("cannot append remote entries; retrying") ? nil : "no failed append logged yet"
                }
                // Whatever part of a batch reached the disk before it filled was cut off again.
                let (_, problems) = fileProblems(b.replica(session))
                cluster.expectNoProblems(problems, "B's file while its disk is full")
                #expect(b.isRunning, "B keeps running with a full disk")

                try FileManager.default.removeItem(atPath: filler)
                try await cluster.expectConverged(session, on: [a, b], expectedOpIDs: Set(seeded + whileFull))
                try await b.stop()
            }
        }
    }
}

/// Mounts a tmpfs of `size` (e.g. "1m") over the empty folder `path`.
private func mountTmpfs(at path: String, size: String) throws {
    guard mount("tmpfs", path, "tmpfs", 0, "size=\(size)") == 0 else {
        throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EPERM)
    }
}

/// Writes zeros to a new file at `path` until the file system is full.
private func fillUntilFull(_ path: String) throws {
    let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    guard descriptor >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
    defer { close(descriptor) }
    let block = [UInt8](repeating: 0, count: 4096)
    var rounds = 0
    while rounds < 1 << 16, block.withUnsafeBytes({ write(descriptor, $0.baseAddress, $0.count) }) > 0 {
        rounds += 1
    }
    // Top up what a whole block no longer fits into.
    while rounds < 1 << 17, write(descriptor, block, 1) == 1 { rounds += 1 }
}
