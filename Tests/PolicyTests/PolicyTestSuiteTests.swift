import Fmap
import Foundation
import Policy
import Testing

/// The repository's policies/ folder.
private let bundledPolicies: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path + "/policies"
}()

/// A suite over `policy` and `tests` written into a fresh folder, on four 1 GiB devices.
private func suite(policy: String = "function layout(file, devices) return { ext_type = \"simple\", extents = { alloc(0, file.size) } } end\n",
                   tests: String, limits: PolicyLimits = PolicyLimits()) throws -> PolicyTestSuite {
    let fixture = try PolicyFixture(["policy.lua": policy, "policy_test.lua": tests])
    return PolicyTestSuite(policyPath: fixture.folder + "/policy.lua", testPath: fixture.folder + "/policy_test.lua",
                           devices: fixture.devices, limits: limits)
}

/// Runs every test of `suite`: name → failure (nil when it passed).
private func outcomes(_ suite: PolicyTestSuite) throws -> [String: String?] {
    Dictionary(uniqueKeysWithValues: try suite.discover().map { ($0.name, suite.run($0).failure) })
}

@Suite struct PolicyTestSuiteTests {
    @Test(arguments: ["stripe", "contiguous", "mixed", "stage_then_commit"])
    func bundledPolicyTestsPass(_ name: String) throws {
        let devices = (0..<4).map { DeviceFacts(index: UInt32($0), path: "/dev/dax\($0).0", size: 1 << 30, alignment: FmapLimits.mib2) }
        let suite = PolicyTestSuite(policyPath: "\(bundledPolicies)/\(name).lua", testPath: "\(bundledPolicies)/\(name)_test.lua",
                                    devices: devices)
        let tests = try suite.discover()
        #expect(tests.count >= 3)
        for test in tests {
            let outcome = suite.run(test)
            #expect(outcome.passed, "\(test.name): \(outcome.failure ?? "")")
        }
    }

    @Test func testsAreFoundInTheOrderTheyAreWritten() throws {
        let tests = try suite(tests: "function test_b() end\nlocal function test_hidden() end\nfunction test_a() end\nhelper = 1\n").discover()
        #expect(tests.map(\.name) == ["test_b", "test_a"])
        #expect(tests.map(\.line) == [1, 3])
        #expect(tests.map(\.file) == ["policy_test.lua", "policy_test.lua"])
    }

    @Test func failuresNameTheTestFileAndLine() throws {
        let results = try outcomes(try suite(tests: """
            function test_expect() expect(1 == 2, "one is not two") end
            function test_eq()
              expect_eq({ 1, { a = "x" } }, { 1, { a = "y" } }, "nested")
            end
            function test_error() local t = nil; return t.field end
            function test_expect_error() expect_error(function() end, "boom") end
            function test_pass(devices) expect_eq(#devices, 4) end
            """))
        #expect(results["test_expect"] == "policy_test.lua:1: one is not two")
        #expect(results["test_eq"] == #"policy_test.lua:3: nested: expected { 1, { a = "y" } }, got { 1, { a = "x" } }"#)
        #expect(results["test_error"]??.hasPrefix("policy_test.lua:5: attempt to index a nil value") == true)
        #expect(results["test_expect_error"] == #"policy_test.lua:6: expected an error containing "boom", but the call succeeded"#)
        #expect(results["test_pass"] == .some(nil))
    }

    @Test func layoutOfReturnsTheFmapInTheJSONShape() throws {
        let results = try outcomes(try suite(tests: """
            function test_shape()
              expect_eq(layout_of{ path = "/a", size = 3 * 1048576 },
                        { file_size = 3145728, ext_type = "simple", extents = { { dev = 0, offset = 0, length = 4194304 } } })
              -- what the first file kept stays allocated for the rest of the test
              expect_eq(layout_of{ size = 1 }.extents[1].offset, 4194304)
            end
            """))
        #expect(results["test_shape"] == .some(nil))
    }

    @Test func layoutOfReportsFailuresWithTheirKindAndReleasesTheirMemory() throws {
        let policy = """
            function layout(file, devices)
              local extent = alloc(0, file.size)
              if file.path == "/misaligned" then extent = { dev = 0, offset = 4096, length = extent.length } end
              if file.path == "/raise" then error("refused " .. file.path) end
              return { ext_type = "simple", extents = { extent } }
            end
            """
        let results = try outcomes(try suite(policy: policy, tests: """
            function test_failures()
              local fmap, err, kind = layout_of{ path = "/misaligned", size = 1 }
              expect_eq({ fmap, err, kind }, { nil, "policy.lua:1: layout: extents[0].offset: 0x1000 is not a multiple of 0x200000", "invalidFmap" })
              fmap, err, kind = layout_of{ path = "/raise", size = 1 }
              expect_eq({ err, kind }, { "policy.lua:4: layout: refused /raise", "runtime" })
              fmap, err, kind = layout_of{ path = "/full", size = 2 * 1073741824 }
              expect_eq(kind, "allocation")
              expect_eq(layout_of{ size = 1 }.extents[1].offset, 0, "failed calls kept no memory")
            end
            """))
        #expect(results["test_failures"] == .some(nil))
    }

    @Test("layout_of reports a layout that ran out of memory as the memory limit, with its line")
    func layoutOfReportsTheMemoryLimit() throws {
        let policy = """
            function layout(file, devices)
              if file.path == "/raise" then error("refused") end
              local s = string.rep("x", 200 * 1048576)
              return { ext_type = "simple", extents = { alloc(0, file.size) } }
            end
            """
        let results = try outcomes(try suite(policy: policy, tests: """
            function test_memory()
              local _, err = layout_of{ path = "/raise", size = 1 }
              expect_eq(err, "policy.lua:2: layout: refused")
              layout_of{ size = 1 }
            end
            """))
        let failure = try #require(results["test_memory"] ?? nil)
        #expect(failure.hasSuffix("memory limit of 67108864 bytes exceeded"), "\(failure)")
    }

    @Test func eachTestHasItsOwnBudgetAndItsOwnState() throws {
        let results = try outcomes(try suite(tests: """
            function test_1_loops() while true do end end
            function test_2_sets() leaked = true; layout_of{ size = 1 } end
            function test_3_starts_fresh()
              expect_eq(leaked, nil)
              expect_eq(layout_of{ size = 1 }.extents[1].offset, 0)
            end
            """, limits: PolicyLimits(instructionBudget: 100_000)))
        #expect(results["test_1_loops"] == "policy_test.lua:1: instruction budget of 100000 instructions exceeded")
        #expect(results["test_2_sets"] == .some(nil))
        #expect(results["test_3_starts_fresh"] == .some(nil))
    }

    @Test func aTestFileThatDoesNotLoadIsOneError() throws {
        #expect { try suite(tests: "function test_x(\n").discover() } throws: {
            ($0 as? PolicyError)?.description.hasPrefix("policy_test.lua:2: load:") == true
        }
    }

    @Test func hooksCannotReachTheTestHelpers() throws {
        let fixture = try PolicyFixture(["policy.lua": """
            function layout(file, devices)
              if layout_of then error("layout_of is visible") end
              return { ext_type = "simple", extents = { alloc(0, 1) } }
            end
            """])
        let fmap = try fixture.runtime().layout(for: FileFacts(path: "/a", size: 1), allocator: fixture.allocator())
        #expect(fmap.extents == .simple([SimpleExtent(device: 0, offset: 0, length: FmapLimits.mib2)]))
    }
}
