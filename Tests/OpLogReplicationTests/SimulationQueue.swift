/// Events on the virtual clock, earliest first; events at the same instant come out in the order
/// they were scheduled, so a run is a pure function of its seed.
struct SimulationQueue<Event> {
    private struct Item {
        var time: Duration
        var order: UInt64
        var event: Event
    }

    /// Kept latest-first, so the next event is popped from the end.
    private var items: [Item] = []
    private var scheduled: UInt64 = 0

    var isEmpty: Bool { self.items.isEmpty }

    mutating func schedule(_ event: Event, at time: Duration) {
        self.scheduled += 1
        let item = Item(time: time, order: self.scheduled, event: event)
        // First index whose item comes after the new one in the latest-first array.
        var low = 0
        var high = self.items.count
        while low < high {
            let middle = (low + high) / 2
            let other = self.items[middle]
            if other.time > time || (other.time == time && other.order > item.order) {
                low = middle + 1
            } else {
                high = middle
            }
        }
        self.items.insert(item, at: low)
    }

    mutating func next() -> (time: Duration, event: Event)? {
        guard let item = self.items.popLast() else { return nil }
        return (item.time, item.event)
    }
}
