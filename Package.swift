// swift-tools-version: 6.1
import PackageDescription

/// Modules follow the data flow: a policy decides, the fmap engine resolves, the server answers.
let package = Package(
    name: "famfs-policyd",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "famfs-policyd", targets: ["famfs-policyd"]),
        .executable(name: "famfs-policy", targets: ["famfs-policy"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        // Little-endian byte reading and writing shared by every codec.
        .target(name: "WireBytes"),
        // FUSE and famfs wire messages: bytes in, typed values out, and back.
        .target(name: "FuseWire", dependencies: ["WireBytes"]),
        // Extent maps: validation against kernel limits, offset resolution, unrolling, GET_FMAP bytes.
        .target(name: "Fmap", dependencies: ["WireBytes"]),
        // Which device memory is free: allocation-unit bitmaps, first-fit allocation, replay claims.
        .target(name: "Allocation", dependencies: ["Fmap"]),
        // libdaxctl (found with pkg-config, as are the other C libraries), just enough to list devdax devices.
        .systemLibrary(name: "SystemDaxctl", pkgConfig: "libdaxctl", providers: [.apt(["libdaxctl-dev"])]),
        .target(name: "CDaxctl", dependencies: ["SystemDaxctl"]),
        // zlib's crc32, the checksum famfs's superblock and log entries carry.
        .systemLibrary(name: "SystemZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .target(name: "CZlib", dependencies: ["SystemZlib"]),
        // CPU cache write-back and invalidation for memory shared without cross-host coherence.
        .target(name: "CCacheLines"),
        // Backing devices: devdax discovery, file-backed devices, shared mappings.
        .target(name: "Devices", dependencies: [
            "CDaxctl", "CCacheLines", .product(name: "SystemPackage", package: "swift-system"),
        ]),
        // famfs's on-media format: superblock, append-only log, replay into allocation state, mkfs, check.
        .target(name: "Metadata", dependencies: [
            "Devices", "Fmap", "Allocation", "WireBytes", "CZlib",
            .product(name: "SystemPackage", package: "swift-system"),
        ]),


        .systemLibrary(name: "SystemLua", pkgConfig: "lua5.4", providers: [.apt(["liblua5.4-dev"])]),
        // Lua 5.4 behind a C fence: sandboxed states, protected entry, budget hook, memory cap.
        .target(name: "CLua", dependencies: ["SystemLua"]),
        // The policy runtime: Lua hooks decide placement and layout; their fmaps are validated here.
        .target(name: "Policy", dependencies: [
            "CLua", "Fmap", "Allocation", .product(name: "Logging", package: "swift-log"),
        ]),
        // Dry-run evaluation of a policy over described devices and files, with text and JSON reports.
        .target(name: "PolicyEval", dependencies: [
            "Policy", "Fmap", "Allocation", "Metadata", .product(name: "Yams", package: "Yams"),
        ]),
        // System calls the Glibc module lacks (extended attributes).
        .target(name: "CSystemExtras"),
        // libfuse3's mount helper and the /dev/fuse ioctls (macros Swift cannot import).
        .systemLibrary(name: "SystemFuse", pkgConfig: "fuse3", providers: [.apt(["libfuse3-dev"])]),
        .target(name: "CFuse", dependencies: ["SystemFuse"]),
        // The FUSE server: channels, the message loop, the namespace and the operation handlers.
        .target(name: "Server", dependencies: [
            "CFuse", "CSystemExtras", "FuseWire", "Fmap", "Allocation", "Devices", "Metadata", "Policy", "WireBytes",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "SystemPackage", package: "swift-system"),
        ]),

        // Executables stay thin: parse options, call the modules.
        .executableTarget(name: "famfs-policy", dependencies: [
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            "Metadata", "Devices",
            "PolicyEval",
            "CSystemExtras",
            .product(name: "Logging", package: "swift-log"),
        ]),
        .executableTarget(name: "famfs-policyd", dependencies: [
            "Server",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ]),

        .testTarget(name: "FuseWireTests", dependencies: ["FuseWire", "WireBytes", "CFuseABIReference"]),
        .testTarget(name: "FmapTests", dependencies: ["Fmap", "WireBytes", "CFuseABIReference"]),
        .testTarget(name: "AllocationTests", dependencies: ["Allocation", "Fmap"]),
        .testTarget(name: "ServerTests", dependencies: [
            "Server", "Metadata", "Fmap", "Allocation", "FuseWire", "Policy", "LogCapture",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "SystemPackage", package: "swift-system"),
        ]),
        // C definitions of the kernel ABI, compiled independently of the Swift codecs they check.
        .target(name: "CFuseABIReference", path: "Tests/CFuseABIReference"),
        .testTarget(name: "DevicesTests", dependencies: ["Devices", "CCacheLines"]),
        .testTarget(name: "MetadataTests", dependencies: ["Metadata", "CFamfsMediaReference"]),
        // C definitions of famfs's on-media structs, compiled independently of the Swift codecs they check.
        .target(name: "CFamfsMediaReference", path: "Tests/CFamfsMediaReference"),
        .testTarget(name: "PolicyTests", dependencies: [
            "Policy", "Fmap", "Allocation", "LogCapture", .product(name: "Logging", package: "swift-log"),
        ]),
        // A logger that keeps what it is told, for the test targets that assert log messages.
        .target(name: "LogCapture", dependencies: [.product(name: "Logging", package: "swift-log")],
                path: "Tests/LogCapture"),
        .testTarget(name: "PolicyEvalTests", dependencies: ["PolicyEval", "Policy", "Fmap"]),
        // Every example in README.md, docs/ and examples/ runs: Lua blocks load, commands exit as documented;
        // the commands' help has examples, and their errors say what to type.
        .testTarget(name: "DocsTests", dependencies: ["PolicyEval", "Policy"]),

        // Benchmarks (scripts/bench runs them; never the tests or CI): famfs-bench measures, the
        // SocketKernel plays the kernel over a socketpair for an in-process server.
        .target(name: "SocketKernel", dependencies: ["Server", .product(name: "SystemPackage", package: "swift-system")],
                path: "Benchmarks/SocketKernel"),
        .executableTarget(name: "famfs-bench", dependencies: [
            "SocketKernel", "Server", "Policy", "Allocation", "Fmap", "Devices", "Metadata", "CSystemExtras",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "SystemPackage", package: "swift-system"),
        ], path: "Benchmarks/famfs-bench"),

        // libFuzzer targets (scripts/fuzz builds them with --sanitize=fuzzer); a normal build
        // makes each a replay tool for its corpus in Fuzz/corpus/.
        .target(name: "FuzzSupport", path: "Fuzz/FuzzSupport"),
        .executableTarget(name: "FuzzRequestDecoder", dependencies: ["FuseWire", "FuzzSupport"], path: "Fuzz/FuzzRequestDecoder"),
        .executableTarget(name: "FuzzFmapDecoder", dependencies: ["Fmap", "FuzzSupport"], path: "Fuzz/FuzzFmapDecoder"),
        .executableTarget(name: "FuzzLogReplay", dependencies: ["Metadata", "Fmap", "CZlib", "FuzzSupport"], path: "Fuzz/FuzzLogReplay"),
    ]
)
