/// A session's entries `1...count` (by sequence number) in reconciliation order, with running
/// sums of their hashes so that any range's fingerprint costs two binary searches.
struct ReconciliationSnapshot: Sendable {
    private(set) var keys: [ReconciliationBound] = []
    private(set) var sequences: [UInt32] = []
    /// `sums[i]` is the sum of the hashes of `keys[0..<i]`.
    private var sums: [UInt64] = [0]

    init(_ entries: ArraySlice<KnownEntry>) {
        var pairs: [(key: ReconciliationBound, sequence: UInt32)] = []
        pairs.reserveCapacity(entries.count)
        for (offset, entry) in entries.enumerated() {
            pairs.append((entry.key, UInt32(offset + 1)))
        }
        pairs.sort { $0.key < $1.key }
        self.keys.reserveCapacity(pairs.count)
        self.sequences.reserveCapacity(pairs.count)
        self.sums.reserveCapacity(pairs.count + 1)
        var sum: UInt64 = 0
        for pair in pairs {
            self.keys.append(pair.key)
            self.sequences.append(pair.sequence)
            sum &+= pair.key.hash
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
