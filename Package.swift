// swift-tools-version:6.2
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6)
]

let package = Package(
    name: "exitbrain",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "exitbrain", targets: ["exitbrain"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.2"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/hummingbird-project/swift-websocket", from: "1.6.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket", from: "2.8.1"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CHiredis",
            pkgConfig: "hiredis",
            providers: [.apt(["libhiredis-dev"])]
        ),
        // glibc's malloc_trim and mallinfo2 (HeapRelease); malloc.h is not in Swift's Glibc module.
        .systemLibrary(name: "CMalloc"),
        .target(
            name: "RedisClient",
            dependencies: ["CHiredis"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Venue",
            dependencies: ["ExitBrainDomain"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "PaperVenue",
            dependencies: [
                "Venue", "ExitBrainCoordination", "ExitBrainDomain",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "BinanceProtocol",
            dependencies: [
                "Venue", "ExitBrainDomain",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "BinanceVenue",
            dependencies: [
                "BinanceProtocol", "Venue", "ExitBrainDomain", "ExitBrainCoordination",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "WSClient", package: "swift-websocket"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "VenueSimulator",
            dependencies: [
                "BinanceProtocol", "Venue", "ExitBrainDomain",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "ChildProcesses",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "ExitBrainDomain",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "ExitBrainCoordination",
            dependencies: [
                "RedisClient",
                "ExitBrainDomain",
                "Venue",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "ExitBrainService",
            dependencies: [
                "CMalloc",
                "ExitBrainCoordination",
                "ExitBrainDomain",
                "RedisClient",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "ExecutionService",
            dependencies: [
                "ExitBrainService",
                "Venue",
                "PaperVenue",
                "BinanceVenue",
                "ExitBrainCoordination",
                "ExitBrainDomain",
                "RedisClient",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "MonitoringService",
            dependencies: [
                "ExitBrainService",
                "ExitBrainCoordination",
                "ExitBrainDomain",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "exitbrain",
            dependencies: [
                "ChildProcesses",
                "Venue",
                "RedisClient",
                "ExitBrainService",
                "ExecutionService",
                "MonitoringService",
                "ExitBrainCoordination",
                "ExitBrainDomain",
                "VenueSimulator",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Support",
            dependencies: [
                "ChildProcesses", "RedisClient", "ExitBrainCoordination", "ExitBrainDomain", "Venue", "BinanceProtocol",
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            path: "Tests/Support",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "exitbrain-bench",
            dependencies: [
                "ChildProcesses", "RedisClient", "ExitBrainCoordination", "ExitBrainDomain", "MonitoringService", "ExecutionService", "Support",
                "PaperVenue", "Venue", "BinanceProtocol", "BinanceVenue", "VenueSimulator",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "exitbrain-domain-bench",
            dependencies: ["ExitBrainDomain"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ChildProcessesTests",
            dependencies: ["ChildProcesses"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "VenueTests",
            dependencies: ["Venue", "ExitBrainDomain"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "BinanceTests",
            dependencies: [
                "BinanceProtocol", "BinanceVenue", "VenueSimulator", "Venue", "ExitBrainDomain", "Support",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ExitBrainDomainTests",
            dependencies: ["ExitBrainDomain"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CoordinationTests",
            dependencies: ["ExitBrainCoordination", "ExitBrainDomain", "Support", "Venue"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ServiceTests",
            dependencies: [
                "ExecutionService", "MonitoringService", "PaperVenue", "Venue", "ExitBrainService", "ExitBrainCoordination", "Support",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "RedisClientTests",
            dependencies: ["RedisClient", "Support", "ChildProcesses"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SystemTests",
            dependencies: ["Support", "RedisClient", "ExitBrainCoordination", "ExitBrainDomain", "Venue", "BinanceProtocol"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "DeployTests",
            dependencies: ["Support"],
            swiftSettings: swiftSettings
        ),
    ]
)
