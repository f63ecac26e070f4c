import Synchronization

/// A one-way flag one thread sets and another polls.
final class StopFlag: Sendable {
    private let value = Atomic<Bool>(false)

    func set() {
        self.value.store(true, ordering: .releasing)
    }

    var isSet: Bool {
        self.value.load(ordering: .acquiring)
    }
}
