import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A POSIX thread running one closure, whose result ``join()`` returns.
///
/// The benchmark's parts (writer, reader, the floor's tail and receiver) block in system calls
/// for their whole life, so each gets a thread of its own rather than a task of the cooperative
/// pool.
final class JoinableThread<Result: Sendable>: Sendable {
    private let result: ResultSlot<Result>
    private let thread: pthread_t

    /// Starts `body` on a new thread.
    init(_ body: @escaping @Sendable () -> Result) {
        let result = ResultSlot<Result>()
        self.result = result
        self.thread = startThread { result.put(body()) }
    }

    /// Waits for the closure to return and returns its result; call it once.
    func join() -> Result {
        pthread_join(self.thread, nil)
        guard let value = self.result.take() else { preconditionFailure("a joined thread has left its result") }
        return value
    }
}

/// Where a thread leaves its result for the joiner.
private final class ResultSlot<Result: Sendable>: Sendable {
    private let value = Mutex<Result?>(nil)

    func put(_ result: Result) {
        self.value.withLock { $0 = result }
    }

    func take() -> Result? {
        self.value.withLock { value in
            defer { value = nil }
            return value
        }
    }
}

/// A closure on its way to a new thread (a C function pointer cannot capture it, so it travels
/// as the thread's argument).
private final class ThreadBody: Sendable {
    let run: @Sendable () -> Void

    init(_ run: @escaping @Sendable () -> Void) {
        self.run = run
    }
}

/// Starts `body` on a new joinable thread (`pthread_create`).
func startThread(_ body: @escaping @Sendable () -> Void) -> pthread_t {
    let context = Unmanaged.passRetained(ThreadBody(body)).toOpaque()
    var thread = pthread_t()
    let status = pthread_create(
        &thread,
        nil,
        { context in
            guard let context else { preconditionFailure("every thread is started with its body") }
            Unmanaged<ThreadBody>.fromOpaque(context).takeRetainedValue().run()
            return nil
        },
        context
    )
    guard status == 0 else { preconditionFailure("pthread_create failed with \(status)") }
    return thread
}
