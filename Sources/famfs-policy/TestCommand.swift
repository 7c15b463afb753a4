import ArgumentParser
import Foundation
import Logging
import Policy
import PolicyEval

/// `famfs-policy test`: runs a policy's `test_*` functions, like unit tests.
struct TestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Run a policy's unit tests: the test_* functions of POLICY_test.lua (or of the policy itself).",
        discussion: """
            Each test runs in a fresh sandbox: the policy is loaded, then its test file, then \
            test_NAME(devices) is called under one instruction budget, over empty devices. A \
            test fails when it raises an error; the helpers raise with the test's file:line:
              expect(cond [, msg])            fails unless cond is true
              expect_eq(actual, expected [, msg])  compares deeply, prints both
              expect_error(fn, text, ...)     fails unless fn(...) raises an error containing text
              layout_of(file)                 runs layout as the daemon would: the fmap, or nil, error, kind
            Without --device or --input the devices are four of 1 GiB, /dev/dax0.0 to /dev/dax3.0. \
            Exits 0 only when every test passed. The reference is docs/policy-api.md.

            Examples:
              famfs-policy test policies/stripe.lua
              famfs-policy test policies/stripe_test.lua --filter round_robin
              famfs-policy test policies/stripe.lua --device /dev/dax0.0=16G --device /dev/dax1.0=16G --set width=2
            """)

    @Argument(help: ArgumentHelp("The policy (its tests are in POLICY_test.lua beside it, or in itself), or the test file.",
                                 valueName: "policy"))
    var path: String

    @OptionGroup var inputs: PolicyInputOptions

    @Option(help: ArgumentHelp("Run only the tests whose names contain this text.", valueName: "text"))
    var filter: String?

    @Flag(name: .shortAndLong, help: "Also show the policy's log lines (log.info, print) at debug level.")
    var verbose = false

    func run() throws {
        let (policyPath, testPath) = try Self.files(for: path)
        var input = try inputs.evalInput()
        if input.devices.isEmpty {
            input.devices = (0..<4).map { EvalInput.Device(path: "/dev/dax\($0).0", size: 1 << 30) }
        }
        let devices = input.deviceFacts
        var logger = Logger(label: "famfs.policy.test")
        logger.logLevel = verbose ? .debug : .warning
        let suite = PolicyTestSuite(policyPath: policyPath, testPath: testPath, devices: devices, config: input.config,
                                    reservedBytes: input.reservedBytes ?? 0, limits: try inputs.limits(), logger: logger)
        let tests: [PolicyTestSuite.Case]
        do { tests = try suite.discover() } catch {
            print("FAIL \(testPath ?? policyPath) does not load: \(error)")
            throw ExitCode.failure
        }
        let selected = tests.filter { filter == nil || $0.name.contains(filter!) }
        guard !selected.isEmpty else {
            let neighbour = testPath ?? Self.testFile(for: policyPath)
            throw TestCommandFailure(description: tests.isEmpty
                ? "No test_* functions in \(testPath ?? policyPath). Write one in \(neighbour), e.g. function test_small_file(devices) expect(layout_of{ size = 1 }) end"
                : "No test name contains '\(filter!)'; the tests are \(tests.map(\.name).joined(separator: ", ")).")
        }
        print("\(testPath ?? policyPath): \(CountText.format(selected.count, "test")) over \(CountText.format(devices.count, "device"))")
        var failed = 0
        for test in selected {
            let outcome = suite.run(test)
            if let failure = outcome.failure {
                failed += 1
                print("FAIL \(test.name)\n     \(failure)")
            } else {
                print("ok   \(test.name)")
            }
        }
        print(failed == 0 ? "\(selected.count) passed" : "\(failed) of \(selected.count) failed")
        if failed > 0 { throw ExitCode.failure }
    }

    /// The policy and test file named by `path`: a `*_test.lua` is tested against the policy
    /// beside it; a policy is tested with its `*_test.lua` neighbour when there is one.
    static func files(for path: String) throws -> (policy: String, test: String?) {
        let manager = FileManager.default
        guard manager.fileExists(atPath: path) else {
            throw ValidationError("No file \(path). Name a policy, e.g. famfs-policy test policies/stripe.lua.")
        }
        if path.hasSuffix("_test.lua") {
            let policy = String(path.dropLast("_test.lua".count)) + ".lua"
            guard manager.fileExists(atPath: policy) else {
                throw ValidationError("\(path) tests \(policy), which does not exist. Put the test file beside its policy.")
            }
            return (policy, path)
        }
        let neighbour = testFile(for: path)
        return (path, manager.fileExists(atPath: neighbour) ? neighbour : nil)
    }

    static func testFile(for policy: String) -> String {
        (policy.hasSuffix(".lua") ? String(policy.dropLast(4)) : policy) + "_test.lua"
    }
}

/// Why the test command could not run any test; printed as `Error: ...`, exit status 1.
private struct TestCommandFailure: Error, CustomStringConvertible {
    var description: String
}
