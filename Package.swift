// swift-tools-version: 6.1
import PackageDescription

/// Swift 6 language mode everywhere, plus the upcoming features STYLE.md §1 asks for.
let strictSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "oplog-sync",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "OpLog", targets: ["OpLog"]),
        .library(name: "OpLogWatch", targets: ["OpLogWatch"]),
        .executable(name: "oplog-sync", targets: ["oplog-sync"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.2"),
    ],
    targets: [
        .target(
            name: "OpLog",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            swiftSettings: strictSettings
        ),
        .systemLibrary(
            name: "CInotifyTools",
            pkgConfig: nil,
            providers: [.apt(["libinotifytools0-dev"])]
        ),
        .target(
            name: "OpLogWatch",
            dependencies: ["OpLog", "CInotifyTools"],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "oplog-sync",
            dependencies: [
                "OpLog",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "OpLogTests",
            dependencies: ["OpLog"],
            resources: [.copy("Fixtures")],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "OpLogWatchTests",
            dependencies: ["OpLogWatch", "OpLog"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "CInotifyToolsTests",
            dependencies: ["CInotifyTools", "OpLogWatch"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "OplogSyncCLITests",
            dependencies: [
                "OpLog",
                "oplog-sync",
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            resources: [.copy("Fixtures")],
            swiftSettings: strictSettings
        ),
    ]
)
