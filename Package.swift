// swift-tools-version:6.0
import PackageDescription

// Layers (dependencies point downward only):
//   executables: vigild, vigilctl, vigil-pcmk (-> VigilDaemon), vigil-sim (-> VigilSim)
//   VigilDaemon (shell: sockets, threads, agents, libsystemd via CSystemd)
//   VigilSim (simulator)  VigilStatus (status, events, metrics)  VigilConfig (config file)
//   VigilCore (the Node step function: Membership/, Fencing/, Resources/)  ->  VigilWire (frames)
// VigilWire, VigilCore, VigilConfig, VigilStatus and VigilSim are pure: no sockets, threads, clocks,
// unseeded randomness or mutable globals (PurityTests greps them). See docs/architecture.md.
// The core and the simulator are optimised in debug builds too: `swift test` runs thousands of
// simulated seeds (10x faster optimised); a change there rebuilds slower, the rest does not.
let optimizedInTests: [SwiftSetting] = [.unsafeFlags(["-O"], .when(configuration: .debug))]

let package = Package(
    name: "Vigil",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "vigil-sim", targets: ["vigil-sim"]),
        .executable(name: "vigilctl", targets: ["vigilctl"]),
        .executable(name: "vigild", targets: ["vigild"]),
        .executable(name: "vigil-pcmk", targets: ["vigil-pcmk"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
    ],
    targets: [
        // Frames: swift-crypto for the key derivation (HKDF), libsodium for the AEAD on raw buffers
        // (docs/frame-cost.md says why). Found by pkg-config; Debian package libsodium-dev.
        .systemLibrary(name: "CSodium", pkgConfig: "libsodium", providers: [.apt(["libsodium-dev"])]),
        .target(name: "VigilWire", dependencies: [.product(name: "Crypto", package: "swift-crypto"), "CSodium"],
                swiftSettings: optimizedInTests),
        .target(name: "VigilCore", dependencies: ["VigilWire"], swiftSettings: optimizedInTests),
        .target(name: "VigilConfig", dependencies: ["VigilCore"]),
        .target(name: "VigilSim", dependencies: ["VigilCore", "VigilConfig"], swiftSettings: optimizedInTests),
        .target(name: "VigilStatus", dependencies: ["VigilCore", "VigilConfig"]),
        // Shells (I/O): libsystemd, sockets, threads. Found by pkg-config; Debian package libsystemd-dev.
        .systemLibrary(name: "CSystemd", pkgConfig: "libsystemd", providers: [.apt(["libsystemd-dev"])]),
        // recvmmsg and ppoll (GNU extensions the Glibc module leaves out), for the heartbeat loop.
        .target(name: "CNet"),
        // HTTP for the arbiter's etcd client (the v3 JSON gateway, TLS optional): Debian's libcurl4-openssl-dev.
        .target(name: "CCurl", linkerSettings: [.linkedLibrary("curl")]),
        .target(name: "VigilDaemon", dependencies: ["VigilCore", "VigilConfig", "VigilStatus", "CSystemd", "CNet", "CCurl"]),
        .executableTarget(
            name: "vigild",
            dependencies: ["VigilDaemon", "VigilStatus", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .executableTarget(
            name: "vigil-sim",
            dependencies: ["VigilSim", "VigilConfig", "VigilStatus", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .executableTarget(
            name: "vigilctl",
            dependencies: ["VigilConfig", "VigilStatus", "VigilDaemon", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        // The Pacemaker tools agents call (crm_attribute, attrd_updater, ...), against the local vigild.
        .executableTarget(name: "vigil-pcmk", dependencies: ["VigilCore", "VigilConfig", "VigilStatus", "VigilDaemon"]),
        .testTarget(name: "VigilCoreTests", dependencies: ["VigilCore", "VigilWire", "VigilConfig", "VigilStatus"]),
        .testTarget(name: "VigilSimTests", dependencies: ["VigilSim", "VigilConfig"], exclude: ["Fixtures", "Scenarios"]),
        .testTarget(name: "VigilLabTests", dependencies: ["VigilStatus", "VigilDaemon"],
                    exclude: ["plugins", "attack.py", "page_check.py", "watchdog_standin.py"]),
    ],
    swiftLanguageModes: [.v6]
)
