// swift-tools-version:6.1
import PackageDescription

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
        .target(name: "KascadeCore"),
        .target(name: "KascadeModel", dependencies: ["KascadeCore"]),
        .target(
            name: "KascadeCUDA",
            dependencies: ["KascadeCore"],
            resources: [
                .embedInCode("kernels/decode_attention.cu"),
                .embedInCode("kernels/decode_attention_mma.cu"),
                .embedInCode("kernels/decode_topk.cu"),
            ]
        ),
        .target(name: "KascadeEval", dependencies: ["KascadeModel", "KascadeCore"]),
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
        .testTarget(name: "KascadeEvalTests", dependencies: ["KascadeEval"]),
    ],
    swiftLanguageModes: [.v5]
)
