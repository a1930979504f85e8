// swift-tools-version:6.1
import PackageDescription

/// x86-64 builds target AVX2 + FMA + F16C (haswell): without it every SIMD multiply-add becomes a
/// library call. Every x86-64 server of the last decade, and the CI and GPU hosts, have both.
#if arch(x86_64)
let cpuSettings: [SwiftSetting] = [.unsafeFlags(["-target-cpu", "haswell"])]
#else
let cpuSettings: [SwiftSetting] = []
#endif

let package = Package(
    name: "Kascade",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "KascadeCore", targets: ["KascadeCore"]),
        .library(name: "KascadeModel", targets: ["KascadeModel"]),
        .library(name: "KascadeCUDA", targets: ["KascadeCUDA"]),
        .library(name: "KascadeEval", targets: ["KascadeEval"]),
        .executable(name: "kascade", targets: ["kascade"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        .target(name: "KascadeCore", swiftSettings: cpuSettings),
        .target(name: "KascadeModel", dependencies: ["KascadeCore"],
                resources: [.embedInCode("Resources/SmolLM2-135M-Instruct.Q4_1.schedule.json")], swiftSettings: cpuSettings),
        .target(
            name: "KascadeCUDA",
            dependencies: ["KascadeCore"],
            resources: [
                .embedInCode("kernels/common.cuh"),
                .embedInCode("kernels/grid_dependency.cuh"),
                .embedInCode("kernels/decode_attention.cu"),
                .embedInCode("kernels/decode_attention_mma.cu"),
                .embedInCode("kernels/decode_attention_entries.cu"),
                .embedInCode("kernels/decode_topk.cu"),
                .embedInCode("kernels/decode_pool_select.cu"),
                .embedInCode("kernels/prefill_attention.cu"),
                .embedInCode("kernels/prefill_wgmma.cu"),
                .embedInCode("kernels/decode_peers.cu"),
                .embedInCode("kernels/decode_peers_select.cu"),
                .embedInCode("kernels/decode_peers_twilight_vattention.cu"),
                .embedInCode("kernels/decode_peers_attend.cu"),
                .embedInCode("kernels/prefill_anchor.cu"),
                .embedInCode("kernels/prefill_anchor_wgmma.cu"),
                .embedInCode("kernels/prefill_reuse_wgmma.cu"),
            ]
        ),
        .target(name: "KascadeEval", dependencies: ["KascadeModel", "KascadeCore"], swiftSettings: cpuSettings),
        .executableTarget(
            name: "kascade",
            dependencies: [
                "KascadeCore", "KascadeModel", "KascadeCUDA", "KascadeEval",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "KascadeCoreTests", dependencies: ["KascadeCore"]),
        .testTarget(name: "KascadeModelTests", dependencies: ["KascadeModel"]),
        .testTarget(name: "KascadeCUDATests", dependencies: ["KascadeCUDA"]),
        .testTarget(name: "KascadeEvalTests", dependencies: ["KascadeEval", "KascadeCore"]),
    ],
    swiftLanguageModes: [.v5]
)
