import Foundation
import Testing

/// What the commands say when they are used wrong: what is missing, and what to type instead.
@Suite struct CommandLineTests {
    /// Runs famfs-policy in the repository root with a scratch folder holding `files`.
    private func famfsPolicy(_ arguments: [String], files: [String: String] = [:]) throws -> (status: Int32, output: String) {
        let executable = try #require(builtExecutable("famfs-policy"), "famfs-policy is not built beside the tests; build with swift build --build-tests")
        let folder = NSTemporaryDirectory() + "cli-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        for (name, text) in files { try text.write(toFile: folder + "/" + name, atomically: true, encoding: .utf8) }
        return try run(executable, arguments.map { $0.replacingOccurrences(of: "$DIR", with: folder) })
    }

    @Test func evalOfAMissingPolicySaysSoAndWhatToType() throws {
        let result = try famfsPolicy(["eval", "--policy", "nope.lua", "--device", "/dev/dax0.0=1G", "--file", "/a=1M"])
        #expect(result.status != 0)
        #expect(result.output.contains("No file nope.lua. Name a policy, e.g. famfs-policy eval --policy policies/stripe.lua"), "\(result.output)")
        #expect(!result.output.contains("device usage"), "no report for a policy that is not there:\n\(result.output)")
    }

    @Test func inputFoundBadOnceParsedPointsAtThatCommandsHelpWithExitStatus64() throws {
        for arguments in [["eval", "--policy", "policies/stripe.lua", "--device", "/dev/dax0.0=1Q", "--file", "/a=1M"],
                          ["eval", "--policy", "policies/stripe.lua", "--device", "/dev/dax0.0=1G", "--device", "/dev/dax0.0=1G", "--file", "/a=1M"],
                          ["test", "nope.lua"]] {
            let result = try famfsPolicy(arguments)
            #expect(result.status == 64, "\(result.output)")
            #expect(result.output.hasSuffix("\n  See 'famfs-policy \(arguments[0]) --help'.\n"), "\(result.output)")
            #expect(!result.output.contains("Usage: famfs-policy <subcommand>"), "\(result.output)")
        }
    }

    @Test func evalOfAMissingPolicyNamedByTheInputNamesTheInput() throws {
        let result = try famfsPolicy(["eval", "--input", "$DIR/in.yaml", "--file", "/a=1M"],
                                     files: ["in.yaml": "policy: gone.lua\ndevices:\n  - { path: /dev/dax0.0, size: 1G }\n"])
        #expect(result.status != 0)
        #expect(result.output.contains("gone.lua, which 'policy:' in "), "\(result.output)")
        #expect(result.output.contains("in.yaml names (relative to that file's folder)"), "\(result.output)")
    }

    @Test func evalWithNoFilesAsksForThem() throws {
        let result = try famfsPolicy(["eval", "--policy", "policies/stripe.lua", "--device", "/dev/dax0.0=1G"])
        #expect(result.status != 0)
        #expect(result.output.contains("Describe at least one file to lay out: --file /data/a=10M (or 'files:' in the --input file)."),
                "\(result.output)")
    }

    @Test func testCountsOneTestAndOneDeviceInTheSingular() throws {
        let one = try famfsPolicy(["test", "policies/stripe.lua", "--filter", "small_and_empty", "--device", "/dev/dax0.0=1G"])
        #expect(one.status == 0, "\(one.output)")
        #expect(one.output.hasPrefix("policies/stripe_test.lua: 1 test over 1 device\n"), "\(one.output)")
        let many = try famfsPolicy(["test", "policies/stripe.lua"])
        #expect(many.output.hasPrefix("policies/stripe_test.lua: 5 tests over 4 devices\n"), "\(many.output)")
    }

    @Test func evalInputErrorsNameTheFileAndTheEntry() throws {
        let result = try famfsPolicy(["eval", "--policy", "policies/stripe.lua", "--input", "$DIR/x.yaml"],
                                     files: ["x.yaml": "devices:\n  - { path: /dev/dax0.0, size: 1G }\n  - { path: /dev/dax1.0 }\n"])
        #expect(result.status != 0)
        #expect(result.output.contains("x.yaml: devices[1]: missing 'size'"), "\(result.output)")
        #expect(!result.output.contains("CodingKeys"), "\(result.output)")
    }
}
