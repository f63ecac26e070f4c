// swift-tools-version: 6.1
import PackageDescription

// The libFuzzer targets of oplog-sync: a package of their own (as Benchmarks/ is), so the
// library's package has no fuzzing-only targets, and its products are built with
// `-sanitize=fuzzer,address` only here. Each target is an executable without top-level code
// (built with `-parse-as-library`) whose `LLVMFuzzerTestOneInput` libFuzzer's own `main` calls.
// Build and run them with `scripts/fuzz.sh` (see README.md, "Fuzzing").

/// Swift 6 language mode, plus the upcoming features STYLE.md §1 asks for.
let strictSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "oplog-sync-fuzz",
    platforms: [.macOS(.v15)],
    dependencies: [
        // Named, so the product references below hold whatever the checkout's folder is called.
        .package(name: "oplog-sync", path: ".."),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
    ],
    targets: [
        // What the targets share: reading a fuzz input, checking properties, writing seeds, and
        // a small in-memory host for replication engines.
        // libFuzzer's driver entry point, which each target's main calls.
        .target(name: "CLibFuzzer"),
        .target(
            name: "FuzzSupport",
            dependencies: [
                "CLibFuzzer",
                .product(name: "OpLog", package: "oplog-sync"),
                .product(name: "OpLogReplication", package: "oplog-sync"),
            ],
            swiftSettings: strictSettings
        ),
        // (a) WireFrameDecoder and WireMessage decoding and encoding.
        .executableTarget(
            name: "FuzzWireFrames",
            dependencies: [
                "FuzzSupport",
                .product(name: "OpLog", package: "oplog-sync"),
                .product(name: "OpLogReplication", package: "oplog-sync"),
                .product(name: "OpLogWire", package: "oplog-sync"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: strictSettings
        ),
        // (b) The handshake: the hello's decoding and `Hello.validate(peer:)`, and
        // `NodeFingerprint(parsing:)`.
        .executableTarget(
            name: "FuzzHandshake",
            dependencies: [
                "FuzzSupport",
                .product(name: "OpLogReplication", package: "oplog-sync"),
                .product(name: "OpLogWire", package: "oplog-sync"),
                .product(name: "OpLogIdentity", package: "oplog-sync"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: strictSettings
        ),
        // (c) The replication engine answering well-formed, hostile reconcile, entries and
        // checkpoint messages.
        .executableTarget(
            name: "FuzzReconciliation",
            dependencies: [
                "FuzzSupport",
                .product(name: "OpLog", package: "oplog-sync"),
                .product(name: "OpLogReplication", package: "oplog-sync"),
            ],
            swiftSettings: strictSettings
        ),
        // (d) The JSON line parsers: `OpEntry(line:)`, `JSONValue(parsing:)`, `Checkpoint(bytes:)`.
        .executableTarget(
            name: "FuzzJSONLines",
            dependencies: [
                "FuzzSupport",
                .product(name: "OpLog", package: "oplog-sync"),
            ],
            swiftSettings: strictSettings
        ),
    ]
)
