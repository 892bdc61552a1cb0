// swift-tools-version: 6.0
import PackageDescription

/// Code is compiled for Haswell (the x86-64-v3 feature set: AVX2, FMA, F16C): every x86 server of the last decade runs it,
/// and without a target CPU the SIMD kernels are an order of magnitude slower.
let cpuFlags: [SwiftSetting] = [.unsafeFlags(["-target-cpu", "haswell"])]

let package = Package(
    name: "Reanchor",
    products: [
        .executable(name: "reanchor", targets: ["reanchor"]),
        .library(name: "Reanchor", targets: ["Engine", "Models", "Tokenizers", "Cache", "Documents", "Kernels"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
    ],
    targets: [
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS",
                       providers: [.apt(["libopenblas-dev"])]),
        .target(name: "CKernels", cSettings: [.unsafeFlags(["-O3", "-mavx2", "-mfma", "-mf16c"])]),
        .target(name: "Kernels", dependencies: ["CBLAS", "CKernels"], swiftSettings: cpuFlags),
        .target(name: "Tokenizers"),
        .target(name: "Templates"),
        .target(name: "Cache", dependencies: ["Kernels"], swiftSettings: cpuFlags),
        .target(name: "Models", dependencies: ["Kernels", "Cache", "CBLAS", .product(name: "Crypto", package: "swift-crypto")], swiftSettings: cpuFlags),
        .target(name: "RESP", dependencies: [.product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio")]),
        .target(name: "Documents", dependencies: ["Cache", "Kernels", "RESP", .product(name: "Crypto", package: "swift-crypto")]),
        .target(name: "Engine", dependencies: ["Models", "Tokenizers", "Cache", "Kernels", "Documents"], swiftSettings: cpuFlags),
        .target(name: "Pruning", dependencies: ["Models", "Kernels"], swiftSettings: cpuFlags),
        .target(name: "Bench", dependencies: ["Engine", "Models", "Tokenizers", "Cache", "Kernels", "Documents", "Pruning", "RESP"], swiftSettings: cpuFlags),
        .target(name: "Server", dependencies: [
            "Engine", "Models", "Tokenizers", "Templates", "Documents", "RESP",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
        ], swiftSettings: cpuFlags),
        // The HTTP load generator of `bench serve`: a client of any OpenAI-compatible server, kept apart from the engine.
        .target(name: "LoadGenerator", dependencies: [
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
        ]),
        .executableTarget(name: "reanchor", dependencies: [
            "Bench", "Pruning", "Server", "LoadGenerator",
            "Engine", "Models", "Tokenizers", "Kernels", "Cache", "Documents", "RESP",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "KernelsTests", dependencies: ["Kernels", "TestSupport"]),
        .testTarget(name: "TokenizersTests", dependencies: ["Tokenizers", "TestSupport"], resources: [.copy("Fixtures")]),
        .testTarget(name: "ModelsTests", dependencies: ["Models", "Kernels", "Cache", "TestSupport"], resources: [.copy("Fixtures")]),
        .testTarget(name: "CacheTests", dependencies: ["Cache", "Kernels", "TestSupport"]),
        .testTarget(name: "DocumentsTests", dependencies: ["Documents", "Cache", "RESP", "TestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "RESPTests", dependencies: ["RESP", "TestSupport"]),
        .testTarget(name: "TestSupportTests", dependencies: ["TestSupport"]),
        .testTarget(name: "EngineTests", dependencies: ["Engine", "Models", "Tokenizers", "Cache", "TestSupport"]),
        .testTarget(name: "TemplatesTests", dependencies: ["Templates"], resources: [.copy("Fixtures")]),
        .testTarget(name: "PruningTests", dependencies: ["Pruning", "Models", "Cache", "Engine", "Documents", "TestSupport"]),
        .testTarget(name: "BenchTests", dependencies: ["Bench", "Engine", "Documents", "TestSupport"]),
        .testTarget(name: "LoadGeneratorTests", dependencies: ["LoadGenerator"]),
        .testTarget(name: "ServerTests", dependencies: [
            "Server", "Engine", "TestSupport", "RESP", "Documents", "LoadGenerator",
            .product(name: "HummingbirdTesting", package: "hummingbird"),
        ]),
    ]
)
