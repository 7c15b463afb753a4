#if canImport(Glibc)
import Glibc
#endif
import CCacheLines
import SystemPackage

/// A backing device mapped shared into this process: a devdax character device, or a regular
/// file whose size is its capacity (development, tests, machines without CXL memory).
///
/// This is the one place that holds a raw base pointer. Every access goes through a bounds
/// check against `size`; the mapping and the descriptor are released when the last reference
/// goes. Concurrent access to disjoint ranges is safe; ordering overlapping writes is the
/// caller's job (the metadata log serialises its own).
public final class MappedDevice: @unchecked Sendable {
    /// How the device is mapped: writers read-write, followers read-only.
    public enum Access: Sendable, Hashable {
        case readWrite
        case readOnly
    }

    /// What backs the mapping.
    public enum Kind: Sendable, Hashable {
        case file
        case devdax
    }

    public let path: FilePath
    public let kind: Kind
    public let access: Access
    /// Bytes mapped, the device's capacity.
    public let size: UInt64
    /// What libdaxctl reports of a devdax device (its NUMA node, its alignment); nil for a file.
    public let dax: DaxDeviceInfo?
    private let descriptor: FileDescriptor
    private let base: UnsafeMutableRawPointer

    /// Opens and maps `path` whole, shared.
    public init(path: FilePath, access: Access) throws(DeviceError) {
        let descriptor: FileDescriptor
        do {
            descriptor = try FileDescriptor.open(path, access == .readWrite ? .readWrite : .readOnly)
        } catch {
            throw .cannotOpen(path, error as? Errno ?? .ioError)
        }
        let identity: (kind: Kind, size: UInt64, dax: DaxDeviceInfo?)
        do { identity = try Self.identify(descriptor, path: path) } catch {
            try? descriptor.close()
            throw error
        }
        let protection = access == .readWrite ? PROT_READ | PROT_WRITE : PROT_READ
        guard let mapped = mmap(nil, Int(identity.size), protection, MAP_SHARED, descriptor.rawValue, 0),
              mapped != UnsafeMutableRawPointer(bitPattern: -1) else {
            let errno = Errno(rawValue: Glibc.errno)
            try? descriptor.close()
            throw .mapFailed(path, errno)
        }
        self.path = path
        self.kind = identity.kind
        self.access = access
        self.size = identity.size
        self.dax = identity.dax
        self.descriptor = descriptor
        self.base = mapped
    }

    deinit {
        munmap(base, Int(size))
        try? descriptor.close()
    }

    /// A copy of `count` bytes at `offset`, read past this CPU's cache: the cache lines are
    /// dropped first, so on memory shared without cross-host coherence the copy holds what
    /// other hosts flushed. Meant for shared metadata (superblock, log, lease); file data goes
    /// through `bytes(at:count:)`.
    public func read(at offset: UInt64, count: Int) throws(DeviceError) -> [UInt8] {
        let region = try bytes(at: offset, count: count)
        if let start = region.baseAddress { ccache_flush(start, count) }
        return Array(region)
    }

    /// Copies `bytes` to `offset`. Not durable until `flush` covers the range.
    public func write(_ bytes: [UInt8], at offset: UInt64) throws(DeviceError) {
        let region = try mutableBytes(at: offset, count: bytes.count)
        bytes.withUnsafeBytes { region.copyMemory(from: $0) }
    }

    /// Fills `count` bytes at `offset` with zeros.
    public func zero(at offset: UInt64, count: Int) throws(DeviceError) {
        let region = try mutableBytes(at: offset, count: count)
        region.initializeMemory(as: UInt8.self, repeating: 0)
    }

    /// A view of `count` mapped bytes at `offset`, valid while this device lives.
    public func bytes(at offset: UInt64, count: Int) throws(DeviceError) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(try checkedRegion(offset: offset, count: count))
    }

    /// A writable view of `count` mapped bytes at `offset`, valid while this device lives.
    public func mutableBytes(at offset: UInt64, count: Int) throws(DeviceError) -> UnsafeMutableRawBufferPointer {
        guard access == .readWrite else { throw .readOnly(path) }
        return try checkedRegion(offset: offset, count: count)
    }

    /// Makes writes to `[offset, offset + count)` visible to other hosts and durable: the CPU
    /// cache lines are written back to the memory (shared memory need not be coherent across
    /// hosts), then a file-backed device is synced to its file (msync).
    public func flush(at offset: UInt64, count: Int) throws(DeviceError) {
        guard access == .readWrite, count > 0 else { return }
        let region = try checkedRegion(offset: offset, count: count)
        ccache_flush(region.baseAddress!, count)
        let page = UInt64(sysconf(Int32(_SC_PAGESIZE)))
        let start = offset / page * page
        let length = Int(offset - start) + count
        guard msync(base + Int(start), length, MS_SYNC) == 0 else {
            throw .flushFailed(path, Errno(rawValue: Glibc.errno))
        }
    }

    private func checkedRegion(offset: UInt64, count: Int) throws(DeviceError) -> UnsafeMutableRawBufferPointer {
        let (end, overflow) = offset.addingReportingOverflow(UInt64(clamping: count))
        guard count >= 0, !overflow, end <= size else {
            throw .outOfBounds(path, offset: offset, count: count, size: size)
        }
        return UnsafeMutableRawBufferPointer(start: base + Int(offset), count: count)
    }

    /// A regular file's capacity is its length; a character device must be a devdax device.
    private static func identify(_ descriptor: FileDescriptor, path: FilePath) throws(DeviceError) -> (Kind, UInt64, DaxDeviceInfo?) {
        let status: Stat
        do { status = try descriptor.stat() } catch { throw .cannotStat(path, error) }
        switch status.type {
        case .regular:
            guard status.size > 0 else { throw .empty(path) }
            return (.file, UInt64(status.size), nil)
        case .characterSpecial:
            let listed = try? DaxDiscovery.devices().first { $0.path == path }
            guard let device = listed else { throw .notDevdax(path) }
            return (.devdax, device.size, device)
        default:
            throw .unsupportedType(path)
        }
    }
}
