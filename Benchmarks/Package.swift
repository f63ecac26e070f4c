// swift-tools-version: 6.1
import PackageDescription

// The benchmarks of oplog-sync: a package of their own (as apple/swift-nio keeps them), so the
// library's package does not depend on package-benchmark. Run them with `Benchmarks/run.sh`
// (see README.md), or directly with `swift package --package-path Benchmarks benchmark`.

/// Swift 6 language mode, plus the upcoming features STYLE.md §1 asks for.
let strictSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "oplog-sync-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        // Named, so the product reference below holds whatever the checkout's folder is called
        // (a path dependency's identity is otherwise its folder name).
        .package(name: "oplog-sync", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
    ],
    targets: [
        // Workloads and floors shared by the suites.
        .target(
            name: "OpLogBenchmarkSupport",
            dependencies: [
                .product(name: "OpLog", package: "oplog-sync"),
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            swiftSettings: strictSettings
        ),
        // Replication latency and bulk rate of two real `oplog-sync run` nodes on loopback, beside a
        // plain TCP pipe of the same bytes: a program of its own (it starts processes and times
        // lines across them), not a package-benchmark suite. Run it with `Benchmarks/replication.sh`.
        .executableTarget(
            name: "ReplicationBenchmark",
            dependencies: [
                .product(name: "OpLog", package: "oplog-sync"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            swiftSettings: strictSettings
        ),
    ]
)

// One executable target per suite, in `Benchmarks/<Name>/<Name>.swift`, as package-benchmark expects.
for name in ["Append", "Scan"] {
    package.targets.append(
        .executableTarget(
            name: name,
            dependencies: [
                "OpLogBenchmarkSupport",
                .product(name: "OpLog", package: "oplog-sync"),
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/\(name)",
            swiftSettings: strictSettings,
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        )
    )
}
