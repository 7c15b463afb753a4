import Allocation
import Fmap
import Logging

/// A policy's unit tests: the global `test_*` functions of the policy's test file (or of
/// the policy itself), run by `famfs-policy test`.
///
/// Every test runs in a fresh state: the policy is loaded with `config`, the test helpers
/// (`expect`, `expect_eq`, `expect_error`, `layout_of`) are installed, the test file runs,
/// then the test is called with the device table, under one instruction budget. Each test
/// starts with empty devices; memory its `layout_of` calls keep stays allocated until it ends.
public struct PolicyTestSuite {
    /// One test function and where it is defined.
    public struct Case: Hashable, Sendable {
        public var name: String
        public var file: String
        public var line: Int
    }

    /// How one test ended.
    public struct Outcome: Hashable, Sendable {
        public var test: Case
        /// `file:line: message` of the error that failed the test; nil when it passed.
        public var failure: String?
        public var passed: Bool { failure == nil }
    }

    public let policyPath: String
    /// The file defining the tests; nil when they are in the policy itself.
    public let testPath: String?
    public let devices: [DeviceFacts]
    public let config: [String: String]
    /// Bytes at the start of every device that are never allocated.
    public let reservedBytes: UInt64
    public let limits: PolicyLimits
    public let fmapLimits: FmapLimits
    public let logger: Logger

    public init(policyPath: String, testPath: String? = nil, devices: [DeviceFacts], config: [String: String] = [:],
                reservedBytes: UInt64 = 0, limits: PolicyLimits = PolicyLimits(), fmapLimits: FmapLimits = .kernel,
                logger: Logger = Logger(label: "famfs.policy.test")) {
        self.policyPath = policyPath
        self.testPath = testPath == policyPath ? nil : testPath
        self.devices = devices
        self.config = config
        self.reservedBytes = reservedBytes
        self.limits = limits
        self.fmapLimits = fmapLimits
        self.logger = logger
    }

    /// The tests, ordered by file and line. Throws when the policy or the test file does not load.
    public func discover() throws(PolicyError) -> [Case] {
        try load().lua.functions(named: "test_").map { Case(name: $0.name, file: $0.file, line: $0.line) }
    }

    /// Runs one test in a fresh state.
    public func run(_ test: Case) -> Outcome {
        do {
            let runtime = try load()
            guard let failure = runtime.lua.callFunction(test.name) else { return Outcome(test: test, failure: nil) }
            let location = failure.line.map { "\(failure.file):\($0)" } ?? (failure.file.isEmpty ? test.file : failure.file)
            return Outcome(test: test, failure: "\(location): \(failure.message)")
        } catch {
            return Outcome(test: test, failure: error.description)
        }
    }

    /// A runtime with the policy, the helpers and the test file loaded, over empty devices.
    private func load() throws(PolicyError) -> PolicyRuntime {
        let allocator = AllocationStateAllocator(state: AllocationState(devices: devices.map {
            DeviceSpace(size: $0.size, reservedBytes: reservedBytes)
        }))
        let runtime = try PolicyRuntime(policyPath: policyPath, devices: devices, config: config, limits: limits,
                                        fmapLimits: fmapLimits, allocator: allocator, logger: logger)
        runtime.host.testLayout = TestLayoutSession(allocator: allocator, fmapLimits: fmapLimits)
        try runtime.lua.openTestHelpers()
        if let testPath {
            let name = testPath.split(separator: "/").last.map(String.init) ?? testPath
            guard let real = PolicyModuleResolver.realPath(testPath),
                  let text = PolicyModuleResolver.readRegularFile(real) else {
                throw PolicyError(kind: .unreadable, file: name, line: nil, hook: .load,
                                  message: "cannot read the test file \(testPath)")
            }
            try runtime.lua.run(text: text, chunkName: name)
        }
        return runtime
    }
}
