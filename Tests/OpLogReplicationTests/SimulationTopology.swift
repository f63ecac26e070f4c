/// The shape of a simulated network: which replicas are neighbours.
enum SimulationShape: String, Sendable, CaseIterable {
    /// Every replica linked to every other.
    case mesh
    /// A path through the replicas in a random order.
    case line
    /// A line whose ends are linked too.
    case ring
    /// A connected random graph where each replica has 3 or 4 neighbours (fewer only when no
    /// partner with room was found).
    case randomGraph = "random graph"
    /// One replica (the hub) linked to every other, and no other link.
    case star

    /// The neighbour pairs (low index first, sorted) of `count` replicas in this shape.
    func links(among count: Int, random: inout SplitMix64) -> [(Int, Int)] {
        var order = Array(0..<count)
        for index in order.indices.reversed() where index > 0 {
            order.swapAt(index, random.below(index + 1))
        }
        var pairs: [(Int, Int)]
        switch self {
        case .mesh:
            pairs = (0..<count).flatMap { low in ((low + 1)..<count).map { (low, $0) } }
        case .line:
            pairs = (1..<count).map { (order[$0 - 1], order[$0]) }
        case .ring:
            pairs = (1..<count).map { (order[$0 - 1], order[$0]) } + (count > 2 ? [(order[count - 1], order[0])] : [])
        case .star:
            pairs = order.dropFirst().map { (order[0], $0) }
        case .randomGraph:
            pairs = Self.randomGraph(order: order, random: &random)
        }
        return pairs.map { (min($0.0, $0.1), max($0.0, $0.1)) }.sorted { ($0.0, $0.1) < ($1.0, $1.1) }
    }

    /// A random spanning tree (each replica, in `order`, joins one before it that has room)
    /// made connected, then links between replicas with room until each has the 3 or 4
    /// neighbours drawn for it.
    private static func randomGraph(order: [Int], random: inout SplitMix64) -> [(Int, Int)] {
        let count = order.count
        let most = 4
        var degree = [Int](repeating: 0, count: count)
        var linked = Set<Int>()
        var pairs: [(Int, Int)] = []
        func link(_ one: Int, _ other: Int) {
            linked.insert(min(one, other) * count + max(one, other))
            degree[one] += 1
            degree[other] += 1
            pairs.append((one, other))
        }
        for position in 1..<count {
            // A tree of at most `most` neighbours each always has a leaf with room.
            let roomy = order[..<position].filter { degree[$0] < most }
            link(order[position], random.pick(roomy))
        }
        let wanted = (0..<count).map { _ in random.within(3...most) }
        for node in order {
            var attempts = 0
            while degree[node] < wanted[node], attempts < 64 {
                attempts += 1
                let other = random.below(count)
                guard other != node, degree[other] < most, !linked.contains(min(node, other) * count + max(node, other)) else {
                    continue
                }
                link(node, other)
            }
        }
        return pairs
    }
}
