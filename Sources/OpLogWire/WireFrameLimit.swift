import Synchronization

/// The largest frame a connection's ``WireFrameDecoder`` accepts right now, shared between the
/// decoder (on the channel's event loop) and the code that admits the peer (any thread).
///
/// A connection starts at the small limit of its hello (``WireConfiguration/maximumHelloSize``)
/// and is raised to ``WireConfiguration/maximumFrameSize`` once the hello has been checked
/// (``raise()``): until then a peer announcing a large frame is refused on its length field,
/// so a connection not yet admitted buffers at most one hello's worth of bytes. A `final class`
/// around an atomic: cheap to read on every frame, safe to share.
public final class WireFrameLimit: Sendable {
    /// The limit until ``raise()``.
    public let initial: Int
    /// The limit after it.
    public let raised: Int
    private let current: Atomic<Int>

    /// A limit of `initial` bytes until ``raise()``, then `raised` (at least `initial`).
    public init(initial: Int, raised: Int) {
        self.initial = initial
        self.raised = max(initial, raised)
        self.current = Atomic(initial)
    }

    /// The largest payload accepted now, in bytes, not counting the length field.
    public var maximumFrameSize: Int { self.current.load(ordering: .acquiring) }

    /// Lifts the limit to ``raised``: the peer's hello was checked. Idempotent.
    public func raise() {
        self.current.store(self.raised, ordering: .releasing)
    }
}
