import Foundation
import Policy
import Testing

/// Every example in the docs runs: Lua blocks load in the sandbox and their tests pass,
/// walkthrough pieces are the shipped files, and eval/test commands exit 0.
@Suite struct DocsTests {
    static let blocks: [CodeBlock] = documents.flatMap { (try? CodeBlock.all(in: $0)) ?? [] }

    @Test func theDocumentsHaveExamples() {
        for document in documents {
            #expect(Self.blocks.contains { $0.document == document }, "\(document) has no code blocks")
        }
        #expect(Self.blocks.filter { $0.language == "lua" }.count >= 10)
    }

    @Test func everyLuaBlockLoadsInTheSandboxAndItsTestsPass() throws {
        let lib = try String(contentsOfFile: repository + "/policies/lib/famfs.lua", encoding: .utf8)
        for block in Self.blocks where block.language == "lua" {
            let folder = NSTemporaryDirectory() + "docs-test-" + UUID().uuidString
            try FileManager.default.createDirectory(atPath: folder + "/lib", withIntermediateDirectories: true)
            try lib.write(toFile: folder + "/lib/famfs.lua", atomically: true, encoding: .utf8)
            // A piece of a policy or a test file runs with no layout of its own.
            var text = block.text
            if !text.contains("function layout(") { text += "\nfunction layout() end\n" }
            try text.write(toFile: folder + "/block.lua", atomically: true, encoding: .utf8)
            let devices = (0..<4).map { DeviceFacts(index: UInt32($0), path: "/dev/dax\($0).0", size: 1 << 30, alignment: 2 << 20) }
            let suite = PolicyTestSuite(policyPath: folder + "/block.lua", devices: devices)
            do {
                for test in try suite.discover() where block.pieceOf == nil {
                    let outcome = suite.run(test)
                    #expect(outcome.passed, "\(block) \(test.name): \(outcome.failure ?? "")")
                }
            } catch {
                Issue.record("\(block) does not load: \(error)")
            }
        }
    }

    @Test func walkthroughPiecesAreTheShippedFiles() throws {
        let pieces = Dictionary(grouping: Self.blocks.filter { $0.pieceOf != nil }, by: { $0.pieceOf! })
        #expect(!pieces.isEmpty)
        func normalized(_ text: String) -> [String] {
            text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        for (file, blocks) in pieces {
            let shipped = try String(contentsOfFile: repository + "/" + file, encoding: .utf8)
            #expect(normalized(blocks.map(\.text).joined(separator: "\n")) == normalized(shipped),
                    "the lua blocks marked <!-- \(file) --> in \(blocks[0].document) differ from \(file)")
        }
    }

    @Test func theEditorStubsDeclareEveryHookAndFunctionTheReferenceLists() throws {
        let reference = try String(contentsOfFile: repository + "/docs/policy-api.md", encoding: .utf8)
        let listed = reference.split(separator: "\n").compactMap { line -> String? in
            guard line.hasPrefix("| `"), let open = line.dropFirst(3).firstIndex(of: "(") else { return nil }
            let name = String(line.dropFirst(3)[..<open])
            return name.allSatisfy { $0.isLetter || $0 == "_" } ? name : nil
        }
        let hooks = PolicyHook.allCases.filter { $0 != .load }.map(\.rawValue)
        #expect(Set(hooks).isSubset(of: listed), "the reference's tables list \(listed)")
        let stubs = try String(contentsOfFile: repository + "/policies/types/host.lua", encoding: .utf8)
        for name in listed {
            let declared = stubs.contains("\nfunction \(name)(")
            #expect(declared, "policies/types/host.lua does not declare \(name)")
        }
        for hook in hooks {
            guard let declaration = stubs.range(of: "\nfunction \(hook)(") else { continue }
            let annotations = stubs[..<declaration.lowerBound].split(separator: "\n").reversed().prefix { $0.hasPrefix("---") }
            #expect(annotations.contains { $0.hasPrefix("---@param") } && annotations.contains { $0.hasPrefix("---@return") },
                    "\(hook) in host.lua has no ---@param and ---@return annotations")
        }
    }

    @Test func theEditorSettingsPointAtTheStubs() throws {
        let settings = try Data(contentsOf: URL(fileURLWithPath: repository + "/policies/.luarc.json"))
        let object = try #require(try JSONSerialization.jsonObject(with: settings) as? [String: Any])
        let library = try #require(object["workspace.library"] as? [String])
        #expect(library.contains { FileManager.default.fileExists(atPath: repository + "/policies/" + $0 + "/host.lua") },
                "workspace.library \(library) does not lead to host.lua from policies/")
        #expect(object["runtime.version"] as? String == "Lua 5.4")
    }

    @Test func everyEvalAndTestCommandSucceeds() throws {
        let commands = Self.blocks.filter { $0.language == "sh" }.flatMap { block in block.policyCommands.map { (block, $0) } }
        #expect(commands.count >= 8)
        guard let executable = builtExecutable("famfs-policy") else {
            Issue.record("famfs-policy is not built beside the tests; build with swift build --build-tests")
            return
        }
        for (block, arguments) in commands {
            let result = try run(executable, arguments)
            #expect(result.status == 0, "\(block): famfs-policy \(arguments.joined(separator: " ")) exited \(result.status):\n\(result.output)")
        }
    }

    @Test func everyHelpHasExamples() throws {
        let helps: [(executable: String, arguments: [String])] = [
            ("famfs-policyd", ["--help"]), ("famfs-policy", ["--help"]),
        ] + ["mkfs", "check", "eval", "test", "commit", "takeover"].map { ("famfs-policy", [$0, "--help"]) }
        for help in helps {
            guard let executable = builtExecutable(help.executable) else {
                Issue.record("\(help.executable) is not built beside the tests; build with swift build --build-tests")
                continue
            }
            let result = try run(executable, help.arguments)
            let command = ([help.executable] + help.arguments).joined(separator: " ")
            #expect(result.status == 0, "\(command) exited \(result.status)")
            let example = ["Example:", "Examples:"].contains { result.output.contains("\($0)\n  famfs-policy") }
            #expect(example, "\(command) shows no example")
        }
    }
}
