import Allocation
import ArgumentParser
import Fmap
import Foundation
import Policy

/// What a Lua policy costs per new file: stripe.lua's `layout` through the Policy module
/// against the same stripe computed by a plain Swift function, in the same process, with the
/// same allocator. Each layout's memory is released again so every call sees the same state.
/// Time is the thread's CPU time, so other work on the machine does not count against either;
/// the two take turns in short rounds and the ratio is the median of the rounds' ratios, so a
/// slow stretch of a shared machine does not fall on one side only.
struct LayoutCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "layouts",
        abstract: "Layouts per second: a policy's layout hook against the same stripe in Swift.")

    @OptionGroup var output: ResultsOptions

    @Option(help: ArgumentHelp("The stripe policy (policies/stripe.lua).", valueName: "file"))
    var policy: String

    @Option(help: "Devices to stripe over (stripe.lua's default width is 16).")
    var devices = 16

    @Option(help: "Seconds per measurement: each side is timed for 3 times this, in 15 rounds taking turns.")
    var seconds = 1.0

    @Option(help: "Which layouts to time: lua, swift or both (one alone is easier to profile).")
    var only = "both"

    func run() throws {
        let deviceSize: UInt64 = 64 << 30
        let facts = (0..<devices).map {
            DeviceFacts(index: UInt32($0), path: "/dev/dax\($0).0", size: deviceSize, alignment: FmapLimits.mib2)
        }
        func freshAllocator() -> AllocationStateAllocator {
            AllocationStateAllocator(state: AllocationState(devices: facts.map { DeviceSpace(size: $0.size) }))
        }
        // Same inputs, same answers: the comparison is only fair if both compute one layout.
        let check = (lua: try PolicyRuntime(policyPath: policy, devices: facts), swift: SwiftStripe(devices: facts))
        let (luaCheck, swiftCheck) = (freshAllocator(), freshAllocator())
        for size in [UInt64(1), 7 << 20, 32 << 20, 1 << 30] {
            let file = FileFacts(path: "/check", size: size)
            let expected = try check.swift.layout(for: file, allocator: swiftCheck)
            guard try check.lua.layout(for: file, allocator: luaCheck) == expected else {
                throw ValidationError("\(policy) and the Swift stripe disagree on a \(size)-byte file")
            }
        }
        for (label, size) in [("32m", UInt64(32 << 20)), ("1g", UInt64(1 << 30))] {
            var sides: [(name: String, layout: (FileFacts, AllocationStateAllocator) throws -> Fmap)] = []
            if only != "swift" {
                let runtime = try PolicyRuntime(policyPath: policy, devices: facts)
                sides.append(("lua", { try runtime.layout(for: $0, allocator: $1) }))
            }
            if only != "lua" {
                let stripe = SwiftStripe(devices: facts)
                sides.append(("swift", { try stripe.layout(for: $0, allocator: $1) }))
            }
            let rates = try pairedRates(sides.map(\.layout), allocators: sides.map { _ in freshAllocator() }, size: size)
            for (side, samples) in zip(sides, rates) {
                try output.record("policy.layouts.\(side.name).\(devices)way.\(label)", median(samples), "layouts/s")
            }
            if rates.count == 2 {
                let ratios = zip(rates[1], rates[0]).map { $0 / $1 }
                try output.record("policy.layouts.ratio.\(devices)way.\(label)", median(ratios), "x")
            }
        }
    }

    /// Rounds per measurement: each round times every side once, so a slow stretch of the
    /// machine falls on both sides of the same round's ratio.
    private static let rounds = 15

    /// Layouts per second of this thread's CPU time, per round, for each side; the sides take
    /// turns going first. Together the rounds last `seconds` × 3 per side.
    private func pairedRates(_ layouts: [(FileFacts, AllocationStateAllocator) throws -> Fmap],
                             allocators: [AllocationStateAllocator], size: UInt64) throws -> [[Double]] {
        let batch = seconds * 3 / Double(Self.rounds)
        var rates = layouts.map { _ in [Double]() }
        for round in 0..<Self.rounds {
            let order = round.isMultiple(of: 2) ? Array(layouts.indices) : layouts.indices.reversed()
            for side in order {
                rates[side].append(try timedLayouts(allocator: allocators[side], size: size, seconds: batch, layouts[side]))
            }
        }
        return rates
    }

    private func timedLayouts(allocator: AllocationStateAllocator, size: UInt64, seconds: Double,
                              _ layout: (FileFacts, AllocationStateAllocator) throws -> Fmap) throws -> Double {
        var count = 0
        let start = threadCPUSeconds()
        while true {
            for _ in 0..<256 {
                let fmap = try layout(FileFacts(path: "/bench/file\(count)", size: size), allocator)
                for extent in fmap.claimedRanges { allocator.release(extent) }
                count += 1
            }
            let elapsed = threadCPUSeconds() - start
            if elapsed >= seconds { return Double(count) / elapsed }
        }
    }
}

/// The middle value (the mean of the middle two for an even count).
private func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    let middle = sorted.count / 2
    return sorted.count.isMultiple(of: 2) ? (sorted[middle - 1] + sorted[middle]) / 2 : sorted[middle]
}

/// CPU seconds the calling thread has used.
private func threadCPUSeconds() -> Double {
    var spec = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &spec)
    return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
}

/// stripe.lua's round-robin layout written in Swift: a file's 2 MiB chunks dealt over up to
/// `width` devices with room, starting where the previous file's chunks ended.
final class SwiftStripe {
    let devices: [DeviceFacts]
    let width: Int
    private var cursor = 0

    init(devices: [DeviceFacts], width: Int = 16) {
        self.devices = devices
        self.width = width
    }

    func layout(for file: FileFacts, allocator: any PolicyAllocator) throws -> Fmap {
        let chunk = FmapLimits.mib2
        let chunks = max(1, Int((file.size + chunk - 1) / chunk))
        let n = min(width, devices.count, chunks)
        let need = UInt64((chunks + n - 1) / n) * chunk
        var picked: [UInt32] = []
        picked.reserveCapacity(n)
        for k in 0..<devices.count where picked.count < n {
            let device = devices[(cursor + k) % devices.count].index
            if allocator.freeBytes(device: device) >= need { picked.append(device) }
        }
        cursor = (cursor + chunks) % devices.count
        if picked.isEmpty { picked = [devices[0].index] }
        let strips = min(picked.count, chunks)
        var extents: [SimpleExtent] = []
        extents.reserveCapacity(strips)
        for s in 0..<strips {
            let stripChunks = UInt64((chunks - s + strips - 1) / strips)
            extents.append(try allocator.allocate(device: picked[s], bytes: stripChunks * chunk, alignment: chunk))
        }
        return Fmap(fileSize: file.size, extents: .interleaved([
            InterleavedExtent(chunkSize: chunk, byteCount: UInt64(chunks) * chunk, strips: extents),
        ]))
    }
}
