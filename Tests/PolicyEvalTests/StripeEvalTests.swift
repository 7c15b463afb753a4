import Fmap
import Policy
import PolicyEval
import Testing

/// The issue's acceptance run: stripe.lua over 16 devices for 1,000 files of mixed sizes.
@Suite struct StripeEvalTests {
    static let chunk = FmapLimits.mib2

    /// Sizes from empty to 200 MiB, many not chunk multiples, in a fixed pseudo-random order.
    static func mixedFiles(_ count: Int) -> [EvalInput.File] {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        return (0..<count).map { i in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let size: UInt64
            switch i % 4 {
            case 0: size = (state >> 33) % (4 << 20)
            case 1: size = (state >> 33) % (40 << 20)
            case 2: size = (state >> 33) % (200 << 20)
            default: size = ((state >> 33) % 64 + 1) * chunk
            }
            return EvalInput.File(path: "/data/file\(i)", size: size)
        }
    }

    @Test func thousandFilesOverSixteenDevicesAreValidDisjointAndBalanced() throws {
        let input = EvalInput(devices: evalDevices(16, size: 64 << 30), files: Self.mixedFiles(1000))
        let report = PolicyEvaluator.evaluate(policyPath: policiesFolder + "/stripe.lua", input: input)
        #expect(report.valid)
        #expect(report.files.allSatisfy { $0.error == nil })

        var claimed = DeviceRangeMap()
        for file in report.files {
            let fmap = try #require(file.fmap)
            try fmap.validate(limits: .kernel, deviceSizes: Array(repeating: 64 << 30, count: 16))
            try claimed.claim(fmap, owner: file.path)
            guard case .interleaved(let extents) = fmap.extents, extents.count == 1 else {
                Issue.record("\(file.path) is not one interleaved extent")
                continue
            }
            let lengths = extents[0].strips.map(\.length)
            #expect(lengths.max()! - lengths.min()! <= Self.chunk, "\(file.path) strips differ by more than a chunk")
            #expect(Set(extents[0].strips.map(\.device)).count == extents[0].strips.count, "\(file.path) reuses a device")
            let chunks = max(1, (file.size + Self.chunk - 1) / Self.chunk)
            #expect(extents[0].strips.count == Int(min(16, chunks)))
        }
        // Chunks are dealt over the pool as one round-robin sequence: devices differ by at most one chunk.
        #expect(report.usageSpread <= Self.chunk, "spread \(report.usageSpread)")
        let total = report.devices.reduce(0) { $0 + $1.used }
        let expected = report.files.reduce(UInt64(0)) { $0 + max(1, ($1.size + Self.chunk - 1) / Self.chunk) * Self.chunk }
        #expect(total == expected)
    }

    @Test func aNarrowerStripeOverAPoolStaysInsideThePool() throws {
        let input = EvalInput(devices: evalDevices(16, size: 8 << 30), files: Self.mixedFiles(200),
                              config: ["width": "4", "pool": "4-11"])
        let report = PolicyEvaluator.evaluate(policyPath: policiesFolder + "/stripe.lua", input: input)
        #expect(report.valid)
        for device in report.devices where !(4...11).contains(device.index) { #expect(device.used == 0) }
        for file in report.files {
            guard case .interleaved(let extents) = file.fmap?.extents else { continue }
            #expect(extents[0].strips.count <= 4)
        }
        #expect(report.devices.filter { (4...11).contains($0.index) }.allSatisfy { $0.used > 0 })
    }

    @Test func randomPickingIsValidAndReproducibleWithASeed() throws {
        let input = EvalInput(devices: evalDevices(16, size: 8 << 30), files: Self.mixedFiles(100),
                              config: ["pick": "random", "width": "8", "seed": "7"])
        let first = PolicyEvaluator.evaluate(policyPath: policiesFolder + "/stripe.lua", input: input)
        let second = PolicyEvaluator.evaluate(policyPath: policiesFolder + "/stripe.lua", input: input)
        #expect(first.valid)
        #expect(first.files.map(\.fmap) == second.files.map(\.fmap))
    }

    @Test func badConfigFailsTheLoadWithItsLine() throws {
        let input = EvalInput(devices: evalDevices(2, size: 1 << 30), files: [.init(path: "/a", size: 1)],
                              config: ["width": "99"])
        let report = PolicyEvaluator.evaluate(policyPath: policiesFolder + "/stripe.lua", input: input)
        #expect(!report.valid)
        #expect(report.loadError?.hasPrefix("stripe.lua:10: load: config.width: \"99\" is not an integer in 1..32") == true,
                "\(report.loadError ?? "")")
    }

    @Test func fullDevicesFailFilesWithENOSPCButKeepEarlierOnes() throws {
        // Device 0 has 22 MiB free (the superblock and log take 10), device 1 has 30 MiB.
        let input = EvalInput(devices: evalDevices(2, size: 32 << 20),
                              files: [.init(path: "/a", size: 24 << 20), .init(path: "/b", size: 24 << 20)])
        let report = PolicyEvaluator.evaluate(policyPath: policiesFolder + "/stripe.lua", input: input)
        #expect(!report.valid)
        #expect(report.files[0].error == nil)
        #expect(report.files[1].error?.contains("alloc: no contiguous free run") == true)
        #expect(report.devices.map(\.used) == [12 << 20, 12 << 20])
    }
}
