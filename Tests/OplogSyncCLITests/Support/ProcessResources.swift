import Foundation
import Synchronization

/// What a running process holds, read from `/proc/PID`: its open descriptors, its threads, and
/// how many of the descriptors are inotify instances.
struct ProcessResources: Sendable, Equatable {
    var descriptors = 0
    var threads = 0
    var inotifyInstances = 0

    /// The process's resources now; nil once it is gone.
    static func of(_ pid: pid_t) -> ProcessResources? {
        let manager = FileManager.default
        guard let descriptors = try? manager.contentsOfDirectory(atPath: "/proc/\(pid)/fd"),
            let threads = try? manager.contentsOfDirectory(atPath: "/proc/\(pid)/task")
        else { return nil }
        let inotify = descriptors.count { descriptor in
            (try? manager.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\(descriptor)")) == "anon_inode:inotify"
        }
        return ProcessResources(descriptors: descriptors.count, threads: threads.count, inotifyInstances: inotify)
    }

    /// The larger of each count.
    func merged(with other: ProcessResources) -> ProcessResources {
        ProcessResources(
            descriptors: max(self.descriptors, other.descriptors),
            threads: max(self.threads, other.threads),
            inotifyInstances: max(self.inotifyInstances, other.inotifyInstances)
        )
    }
}

/// Samples processes' resources every 10 ms until stopped, keeping the most of each seen per
/// process (a descriptor held for less than that can be missed; one held for a sync cannot).
final class ResourceSampler: Sendable {
    private let pids: [pid_t]
    private let state: Mutex<(most: [pid_t: ProcessResources], samples: Int, isRunning: Bool)>

    init(pids: [pid_t]) {
        self.pids = pids
        self.state = Mutex(([:], 0, true))
    }

    /// The most of each resource `pid` held in any sample.
    func most(_ pid: pid_t) -> ProcessResources { self.state.withLock { $0.most[pid] ?? ProcessResources() } }

    /// How many rounds of samples were taken.
    var samples: Int { self.state.withLock { $0.samples } }

    /// Samples until ``stop()``.
    func run() async throws {
        while self.state.withLock({ $0.isRunning }) {
            for pid in self.pids {
                guard let now = ProcessResources.of(pid) else { continue }
                self.state.withLock { $0.most[pid] = ($0.most[pid] ?? now).merged(with: now) }
            }
            self.state.withLock { $0.samples += 1 }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    func stop() {
        self.state.withLock { $0.isRunning = false }
    }
}
