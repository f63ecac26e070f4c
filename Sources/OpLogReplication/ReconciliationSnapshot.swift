/// A session's entries `1...count` (by sequence number) in reconciliation order, with their
/// items (keyed hashes) and running sums of those, so that any range's fingerprint costs two
/// binary searches.
struct ReconciliationSnapshot: Sendable {
    private(set) var keys: [ReconciliationBound] = []
    private(set) var sequences: [UInt32] = []
    /// `items[i]` is the keyed hash of the entry at `keys[i]` (``ReconciliationKey/item(_:_:)``).
    private(set) var items: [UInt64] = []
    /// `sums[i]` is the sum of `items[0..<i]`.
    private var sums: [UInt64] = [0]

    /// - Parameters:
    ///   - entries: The entries, in sequence order from 1.
    ///   - key: The exchange's key.
    init(_ entries: ArraySlice<KnownEntry>, key: ReconciliationKey) {
        var rows: [(key: ReconciliationBound, item: UInt64, sequence: UInt32)] = []
        rows.reserveCapacity(entries.count)
        for (offset, entry) in entries.enumerated() {
            rows.append((entry.key, key.item(entry.key.hash, entry.contentHash), UInt32(offset + 1)))
        }
        // Two entries under one key (one opaque id on two lines, or a crafted collision of
        // op-id hashes) sort by item, so that both sides list them alike.
        rows.sort { ($0.key, $0.item) < ($1.key, $1.item) }
        self.keys.reserveCapacity(rows.count)
        self.items.reserveCapacity(rows.count)
        self.sequences.reserveCapacity(rows.count)
        self.sums.reserveCapacity(rows.count + 1)
        var sum: UInt64 = 0
        for row in rows {
            self.keys.append(row.key)
            self.items.append(row.item)
            self.sequences.append(row.sequence)
            sum &+= row.item
            self.sums.append(sum)
        }
    }

    /// The positions of the entries in `[lower, upper)`.
    func indices(from lower: ReconciliationBound, to upper: ReconciliationBound) -> Range<Int> {
        let first = self.firstIndex(notBelow: lower)
        return first..<max(first, self.firstIndex(notBelow: upper))
    }

    /// (count, sum) of the entries at `indices`.
    func fingerprint(_ indices: Range<Int>) -> (count: UInt64, sum: UInt64) {
        (UInt64(indices.count), self.sums[indices.upperBound] &- self.sums[indices.lowerBound])
    }

    private func firstIndex(notBelow bound: ReconciliationBound) -> Int {
        var low = 0
        var high = self.keys.count
        while low < high {
            let middle = (low + high) / 2
            if self.keys[middle] < bound { low = middle + 1 } else { high = middle }
        }
        return low
    }
}
