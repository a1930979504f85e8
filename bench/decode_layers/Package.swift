// swift-tools-version:5.9
// Per-layer decode attention timing of dense against Kascade inside SmolLM2 (see docs/BENCHMARKS.md, "CPU model").
// Build and run from this folder: swift build -c release && .build/release/decode-layers 8000 12
import PackageDescription

let package = Package(
    name: "decode-layers",
    dependencies: [.package(path: "../..")],
    targets: [
        .executableTarget(name: "decode-layers",
                          dependencies: ["KascadeModel", "KascadeCore"],
                          swiftSettings: [.unsafeFlags(["-target-cpu", "haswell"])]),
    ]
)
