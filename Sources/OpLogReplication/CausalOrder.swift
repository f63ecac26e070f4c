internal import HeapModule
import OpLog

/// Orders a set of entries for writing: parents before children, and otherwise in canonical
/// order (`lamport_ts`, `actor_id`, `op_id`).
///
/// An entry is *ready* when each parent is already written (`isKnown`), or is itself ready in
/// this set. An entry with a parent that is neither (a missing parent) is blocked, and so is
/// every entry that descends from it within the set — unless it is `isExpired`, in which case
/// its missing parents no longer count. Expired entries caught in a parent cycle (possible only
/// with opaque ids) are written last, in canonical order.
enum CausalOrder {
    struct Plan {
        /// Indices into the input, in the order to write them.
        var ready: [Int] = []
        /// Indices into the input that must keep waiting.
        var blocked: [Int] = []
        /// Whether every parent of every ready entry is known or ready before it (no orphans);
        /// `false` only says that this was not checked.
        var hasEveryParent = false
    }

    private struct Candidate: Comparable {
        var key: CanonicalKey
        var index: Int

        static func < (lhs: Candidate, rhs: Candidate) -> Bool {
            if lhs.key != rhs.key { return lhs.key < rhs.key }
            return lhs.index < rhs.index
        }
    }

    /// - Complexity: O((n + p) log n) for n entries with p parent references; O(n + p) when the
    /// entries already are in canonical order with every parent before its child (the usual
    /// batch from a peer).
    static func plan(
        _ entries: [OpEntry],
        isKnown: (OpID) -> Bool,
        isExpired: (Int) -> Bool
    ) -> Plan {
        if Self.isAlreadyOrdered(entries, isKnown: isKnown) {
            return Plan(ready: Array(entries.indices), hasEveryParent: true)
        }
        var position: [OpID: Int] = [:]
        position.reserveCapacity(entries.count)
        for (index, entry) in entries.enumerated() where position[entry.opID] == nil {
            position[entry.opID] = index
        }
        var children = [[Int]](repeating: [], count: entries.count)
        var waitingOn = [Int](repeating: 0, count: entries.count)
        var isBlocked = [Bool](repeating: false, count: entries.count)
        for (index, entry) in entries.enumerated() {
            var seen = Set<OpID>()
            for parent in entry.parentOpIDs where seen.insert(parent).inserted {
                if let parentIndex = position[parent] {
                    if parentIndex != index || !isExpired(index) {
                        children[parentIndex].append(index)
                        waitingOn[index] += 1
                    }
                } else if !isKnown(parent) && !isExpired(index) {
                    isBlocked[index] = true
                }
            }
        }
        var heap = Heap<Candidate>()
        for index in entries.indices where waitingOn[index] == 0 && !isBlocked[index] {
            heap.insert(Candidate(key: entries[index].canonicalKey, index: index))
        }
        var plan = Plan()
        var isDone = [Bool](repeating: false, count: entries.count)
        while let next = heap.popMin() {
            plan.ready.append(next.index)
            isDone[next.index] = true
            for child in children[next.index] {
                waitingOn[child] -= 1
                if waitingOn[child] == 0 && !isBlocked[child] {
                    heap.insert(Candidate(key: entries[child].canonicalKey, index: child))
                }
            }
        }
        // Expired entries still waiting are caught in a parent cycle or behind a parent in the
        // set that is itself waiting. Those behind a parent that has not expired keep waiting
        // (writing them would put a child before a parent that is on its way); the rest, cycles
        // among expired entries, are written in canonical order.
        var isStuck = [Bool](repeating: false, count: entries.count)
        for index in entries.indices where !isDone[index] && isExpired(index) { isStuck[index] = true }
        var changed = true
        while changed {
            changed = false
            for index in entries.indices where isStuck[index] {
                let waitsOnLiveParent = entries[index].parentOpIDs.contains { parent in
                    guard let parentIndex = position[parent], parentIndex != index else { return false }
                    return !isDone[parentIndex] && !isStuck[parentIndex]
                }
                if waitsOnLiveParent {
                    isStuck[index] = false
                    changed = true
                }
            }
        }
        var stuck: [Candidate] = []
        for index in entries.indices where !isDone[index] {
            if isStuck[index] {
                stuck.append(Candidate(key: entries[index].canonicalKey, index: index))
            } else {
                plan.blocked.append(index)
            }
        }
        plan.ready += stuck.sorted().map(\.index)
        return plan
    }

    /// Whether writing `entries` as they are is the plan: strictly ascending canonical keys
    /// (so no op id twice), and each parent known or earlier in the list.
    private static func isAlreadyOrdered(_ entries: [OpEntry], isKnown: (OpID) -> Bool) -> Bool {
        var previous: CanonicalKey?
        var hasParents = false
        for entry in entries {
            let key = entry.canonicalKey
            if let previous, !(previous < key) { return false }
            hasParents = hasParents || !entry.parentOpIDs.isEmpty
            previous = key
        }
        // Parents are looked up only when there are some (a batch of roots needs no set).
        guard hasParents else { return true }
        var earlier = Set<OpID>(minimumCapacity: entries.count)
        for entry in entries {
            for parent in entry.parentOpIDs where !earlier.contains(parent) && !isKnown(parent) {
                return false
            }
            earlier.insert(entry.opID)
        }
        return true
    }
}
