/// Seed inputs: step programs (see ``HostileRun/play(_:)``) that carry a genuine exchange through,
/// with hostile messages and alterations at a few points.
enum Seeds {
    static func all() -> [(name: String, bytes: [UInt8])] {
        // 0: to alice, 11: to bob, 2: altered, 5: hostile from bob, 7: from mallory, 9: tick.
        let genuine: [UInt8] = Array(repeating: [0, 11], count: 12).flatMap { $0 }
        return [
            ("genuine-exchange", genuine),
            ("altered-reply", [11, 0, 2, 5, 0, 11, 0] + genuine),
            ("hostile-reconcile-bob", [5, 0, 4, 1, 6, 3, 0, 2, 3, 4, 5, 6, 7, 8] + genuine),
            ("hostile-reconcile-mallory", [7, 0, 0, 0, 2, 9, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11] + genuine),
            ("hostile-entries", [7, 4, 0, 0, 1, 5, 3, 1, 2, 3, 4, 5, 0, 11, 7, 5, 9, 3, 3, 4, 0, 0, 0, 1, 0]),
            ("hostile-checkpoints", [7, 6, 0, 0, 7, 6, 2, 0, 3, 7, 6, 4, 1, 9, 0, 0, 0]),
            ("reconnect-midway", [0, 11, 0, 10, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16] + genuine),
            ("repeat-and-drop", [0, 4, 4, 11, 3, 0, 4, 11, 11, 0, 0, 4] + genuine),
            ("tick-stall", [0, 11, 9, 255, 255, 0, 11, 9, 16, 0] + genuine),
        ]
    }
}
