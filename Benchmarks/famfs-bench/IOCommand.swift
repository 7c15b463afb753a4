import ArgumentParser
import Foundation
import Synchronization

/// Sequential and random reads and writes of one file with fixed request sizes and thread
/// counts. O_DIRECT by default, so each request reaches the file system as one READ or
/// WRITE of that size instead of being absorbed or reshaped by the page cache.
struct IOCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "io",
        abstract: "Read and write one file: {seq, rand} x {read, write} x request sizes x thread counts.")

    @OptionGroup var output: ResultsOptions

    @Option(help: "Name of what is measured, the second part of each result key (dax, passthrough_ll, ...).")
    var target: String

    @Option(help: ArgumentHelp("The file, already its full size and written once.", valueName: "path"))
    var file: String

    @Option(help: "Seconds per run of a combination.")
    var seconds = 0.5

    @Option(help: "Runs per combination; the best is kept (other work on the machine only ever slows a run down).")
    var repeats = 3

    @Option(help: "Request sizes, comma-separated.")
    var sizes = "4K,128K,1M"

    @Option(help: "Thread counts, comma-separated.")
    var threads = "1,4"

    @Option(help: "Operations, comma-separated: read, write.")
    var ops = "read,write"

    @Flag(help: "Also time one buffered sequential 1 MiB read pass after evicting the file's cached pages.")
    var bufferedPass = false

    func run() throws {
        let requestSizes = sizes.split(separator: ",").compactMap { byteCount(String($0)) }
        let threadCounts = threads.split(separator: ",").compactMap { Int($0) }
        let fileSize = try fileSizeOf(file)
        for op in ops.split(separator: ",").map(String.init) {
            guard let operation = IOWorkload.Operation(rawValue: op) else { throw ValidationError("unknown op \(op)") }
            for pattern in IOWorkload.Pattern.allCases {
                for size in requestSizes {
                    for count in threadCounts {
                        let workload = IOWorkload(path: file, fileSize: fileSize, operation: operation, pattern: pattern,
                                                  requestSize: size, threads: count, seconds: seconds)
                        let rate = try (0..<max(1, repeats)).map { _ in try workload.run() }.max()!
                        try output.record("io.\(target).\(op).\(pattern).\(sizeKey(size)).\(count)t", rate / 1e6, "MB/s")
                    }
                }
            }
        }
        if bufferedPass {
            let rate = try IOWorkload.bufferedColdRead(path: file, fileSize: fileSize)
            try output.record("io.\(target).read.buffered.1m.1t", rate / 1e6, "MB/s")
        }
    }
}

func fileSizeOf(_ path: String) throws -> Int {
    var status = stat()
    guard stat(path, &status) == 0 else { throw IOWorkload.Failure(description: "stat \(path): \(String(cString: strerror(errno)))") }
    return Int(status.st_size)
}

/// One timed run of `threads` threads issuing `requestSize` requests against a file.
struct IOWorkload: Sendable {
    enum Operation: String, Sendable { case read, write }
    enum Pattern: String, Sendable, CaseIterable { case seq, rand }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    var path: String
    var fileSize: Int
    var operation: Operation
    var pattern: Pattern
    var requestSize: Int
    var threads: Int
    var seconds: Double

    /// Bytes per second over all threads, from the common start to the last thread's end.
    /// The threads share one descriptor, as a threaded program would.
    func run() throws -> Double {
        let descriptor = open(path, (operation == .read ? O_RDONLY : O_RDWR) | openDirect)
        guard descriptor >= 0 else {
            throw Failure(description: "open \(path) with O_DIRECT: \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        let ready = DispatchSemaphore(value: 0)
        let go = DispatchSemaphore(value: 0)
        let finished = DispatchGroup()
        let outcome = Mutex<(bytes: Int, end: Double, failure: String?)>((0, 0, nil))
        let regionSize = fileSize / threads / requestSize * requestSize
        guard regionSize >= requestSize else { throw Failure(description: "\(path) is too small for \(threads) x \(requestSize)") }
        for thread in 0..<threads {
            finished.enter()
            let workload = self
            Thread.detachNewThread {
                defer { finished.leave() }
                let result = Result { () throws(Failure) -> (Int, Double) in
                    let stream = RequestStream(workload, descriptor: descriptor, regionStart: thread * regionSize,
                                               regionSize: regionSize, seed: UInt64(thread + 1))
                    ready.signal()
                    go.wait()
                    return try stream.run(until: monotonicSeconds() + workload.seconds)
                }
                outcome.withLock {
                    switch result {
                    case .success(let (bytes, end)):
                        $0.bytes += bytes
                        $0.end = max($0.end, end)
                    case .failure(let failure):
                        $0.failure = failure.description
                        ready.signal()
                    }
                }
            }
        }
        for _ in 0..<threads { ready.wait() }
        let start = monotonicSeconds()
        for _ in 0..<threads { go.signal() }
        finished.wait()
        let (bytes, end, failure) = outcome.withLock { $0 }
        if let failure { throw Failure(description: failure) }
        return Double(bytes) / (end - start)
    }

    /// One pass of buffered 1 MiB reads from a cold page cache, in bytes per second.
    static func bufferedColdRead(path: String, fileSize: Int) throws -> Double {
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { throw Failure(description: "open \(path): \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        _ = fdatasync(descriptor)
        _ = posix_fadvise(descriptor, 0, 0, POSIX_FADV_DONTNEED)
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: 1 << 20, alignment: 4096)
        defer { buffer.deallocate() }
        let start = monotonicSeconds()
        var total = 0
        while total < fileSize {
            let count = read(descriptor, buffer, 1 << 20)
            guard count > 0 else { break }
            total += count
        }
        return Double(total) / (monotonicSeconds() - start)
    }
}

/// O_DIRECT, which Glibc's Swift module leaves out (it needs _GNU_SOURCE); the x86-64 and arm64 value.
#if arch(x86_64)
let openDirect: Int32 = 0o40000
#else
let openDirect: Int32 = 0o200000
#endif

/// One thread's aligned buffer and offset sequence.
private final class RequestStream {
    let workload: IOWorkload
    let descriptor: Int32
    let buffer: UnsafeMutableRawPointer
    let regionStart: Int
    let regionSize: Int
    var random: UInt64

    init(_ workload: IOWorkload, descriptor: Int32, regionStart: Int, regionSize: Int, seed: UInt64) {
        self.workload = workload
        self.descriptor = descriptor
        self.regionStart = regionStart
        self.regionSize = regionSize
        random = seed &* 0x9E37_79B9_7F4A_7C15
        buffer = UnsafeMutableRawPointer.allocate(byteCount: workload.requestSize, alignment: 4096)
        buffer.initializeMemory(as: UInt8.self, repeating: 0xA5, count: workload.requestSize)
    }

    deinit { buffer.deallocate() }

    /// Issues requests until `deadline`; the bytes moved and when the last request ended.
    func run(until deadline: Double) throws(IOWorkload.Failure) -> (Int, Double) {
        let size = workload.requestSize
        let slots = workload.pattern == .seq ? regionSize / size : workload.fileSize / size
        var next = 0
        var bytes = 0
        var now = monotonicSeconds()
        while now < deadline {
            let offset: Int
            switch workload.pattern {
            case .seq:
                offset = regionStart + next * size
                next = next + 1 == slots ? 0 : next + 1
            case .rand:
                random ^= random << 13
                random ^= random >> 7
                random ^= random << 17
                offset = Int(random % UInt64(slots)) * size
            }
            let count = workload.operation == .read ? pread(descriptor, buffer, size, off_t(offset))
                                                    : pwrite(descriptor, buffer, size, off_t(offset))
            guard count == size else {
                let reason = count < 0 ? String(cString: strerror(errno)) : "\(count) of \(size) bytes"
                throw IOWorkload.Failure(description: "\(workload.operation) at \(offset) of \(workload.path): \(reason)")
            }
            bytes += count
            now = monotonicSeconds()
        }
        return (bytes, now)
    }
}
