// swift-tools-version:6.0
import Foundation
import PackageDescription

let package = Package(
    name: "clearml-probe",
    products: [
        .executable(name: "clearml-probe", targets: ["clearml-probe"]),
        .library(name: "ClearMLProbeKit", targets: ["ProbeCore", "NativeClients", "Probes", "Notifiers", "Runtime"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
    ],
    targets: [
        // System libraries: module map + shim.h with typed wrappers for what Swift cannot call (variadics).
        .systemLibrary(name: "CCurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "CHiredis", providers: [.apt(["libhiredis-dev"])]),
        .systemLibrary(name: "CMongoc", pkgConfig: "libmongoc-1.0", providers: [.apt(["libmongoc-dev"])]),
        .systemLibrary(name: "CMalloc"),

        .target(name: "ProbeCore", dependencies: [.product(name: "Yams", package: "Yams")]),
        .target(name: "NativeClients", dependencies: ["CCurl", "CHiredis", "CMongoc", "CMalloc", "ProbeCore"]),
        .target(name: "Probes", dependencies: ["ProbeCore", "NativeClients"]),
        .target(name: "Notifiers", dependencies: ["ProbeCore", .product(name: "Mustache", package: "swift-mustache")]),
        .target(
            name: "Runtime",
            dependencies: [
                "ProbeCore", "NativeClients", "Probes", "Notifiers",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "clearml-probe",
            dependencies: [
                "Runtime", "ProbeCore", "Notifiers", "NativeClients",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        .executableTarget(
            name: "clearml-probe-bench",
            dependencies: [
                "Runtime", "TestSupport", .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .target(name: "TestSupport", dependencies: ["ProbeCore", "NativeClients"], path: "Tests/TestSupport"),
        .testTarget(name: "ProbeCoreTests", dependencies: ["ProbeCore", "TestSupport"]),
        .testTarget(name: "NativeClientsTests", dependencies: ["NativeClients", "TestSupport"]),
        .testTarget(name: "ProbesTests", dependencies: ["Probes", "Runtime", "TestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "CLITests", dependencies: ["Runtime", "NativeClients", "TestSupport"]),
        .testTarget(
            name: "NotifiersTests", dependencies: ["Notifiers", "Runtime", "TestSupport"], exclude: ["Golden"]),
        .testTarget(
            name: "RuntimeTests",
            dependencies: [
                "Runtime", "Notifiers", "Probes", "ProbeCore", "NativeClients", "TestSupport",
                .product(name: "ServiceLifecycleTestKit", package: "swift-service-lifecycle"),
            ]
        ),
    ]
)

// Fuzz targets (libFuzzer), one per family of parsers of remote input. Only `scripts/fuzz` builds them
// (CLEARML_PROBE_FUZZ=1, its own scratch path, -sanitize=fuzzer,address): libFuzzer brings the `main`, so a normal
// build would not link them.
if ProcessInfo.processInfo.environment["CLEARML_PROBE_FUZZ"] == "1" {
    let fuzzTargets: [(String, [Target.Dependency])] = [
        ("FuzzJSONReplies", ["ProbeCore", "Probes"]),
        ("FuzzBSON", ["NativeClients", "ProbeCore", "CMongoc"]),
        ("FuzzRedisReplies", ["NativeClients", "ProbeCore", "CHiredis"]),
        ("FuzzWebhookAnswers", ["Notifiers", "ProbeCore"]),
        ("FuzzHTTPRequest", ["Runtime", "ProbeCore"]),
        ("FuzzSilencesAndConfig", ["Runtime", "Notifiers", "ProbeCore"]),
    ]
    package.targets.append(.target(name: "CFuzzDriver", path: "Fuzz/CFuzzDriver"))
    for (name, dependencies) in fuzzTargets {
        package.targets.append(
            .executableTarget(
                name: name, dependencies: dependencies + ["CFuzzDriver"], path: "Fuzz/\(name)",
                swiftSettings: [.unsafeFlags(["-parse-as-library"])]))
        package.products.append(.executable(name: name, targets: [name]))
    }
}
