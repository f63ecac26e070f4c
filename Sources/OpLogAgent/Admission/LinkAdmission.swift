import NIOCore
import OpLogWire
import Synchronization

/// One connection's way to admission: its frame limit (the hello's size until admitted), its
/// deadline, and its place among the connections not yet admitted.
///
/// Made by ``LinkPipeline`` with the channel; ``PeerConnection`` calls ``admit()`` once the TLS
/// handshake pinned the peer and its hello named the same ID. Until then the decoder refuses a
/// frame larger than a hello, and at the deadline the channel is closed. Its slot among the
/// unadmitted connections is given back once, on admission or when the channel closes.
final class LinkAdmission: Sendable {
    /// The channel's decoder limit.
    let frameLimit: WireFrameLimit
    private let state = Mutex(State())
    private let release: @Sendable () -> Void

    private struct State {
        var isAdmitted = false
        var isReleased = false
        var wasRefused = false
        var hasTimedOut = false
        var deadline: Scheduled<Void>?
    }

    /// An admission holding one slot, which `release` gives back.
    init(frameLimit: WireFrameLimit, release: @escaping @Sendable () -> Void) {
        self.frameLimit = frameLimit
        self.release = release
    }

    /// Closes `channel` after `timeout` unless admitted by then, calling `onTimeout` first; gives
    /// the slot back when the channel closes.
    func watch(_ channel: any Channel, timeout: Duration, onTimeout: @escaping @Sendable () -> Void) {
        let deadline = channel.eventLoop.scheduleTask(in: TimeAmount(timeout)) { [self] in
            let isDue = self.state.withLock { state in
                guard !state.isAdmitted else { return false }
                state.hasTimedOut = true
                return true
            }
            guard isDue else { return }
            onTimeout()
            channel.close(promise: nil)
        }
        self.state.withLock { $0.deadline = deadline }
        channel.closeFuture.whenComplete { [self] _ in
            self.state.withLock { $0.deadline }?.cancel()
            self.giveBack()
        }
    }

    /// The peer is admitted: full-size frames from now on, no deadline, the slot given back.
    func admit() {
        self.frameLimit.raise()
        let deadline = self.state.withLock { state in
            state.isAdmitted = true
            return state.deadline
        }
        deadline?.cancel()
        self.giveBack()
    }

    /// The pinning check refused the peer's certificate (already counted and logged).
    func markRefused() {
        self.state.withLock { $0.wasRefused = true }
    }

    /// Whether the connection ended for a reason already counted and logged: a refused
    /// certificate, or the deadline.
    var wasReported: Bool { self.state.withLock { $0.wasRefused || $0.hasTimedOut } }

    private func giveBack() {
        let isFirst = self.state.withLock { state in
            defer { state.isReleased = true }
            return !state.isReleased
        }
        if isFirst { self.release() }
    }
}
