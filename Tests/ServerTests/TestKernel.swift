import Foundation
import Metadata
import Server
import SystemPackage

/// Plays the kernel side of a FUSE connection over a SOCK_SEQPACKET socketpair: the daemon's
/// server gets the other end as its channel, exactly as `/dev/fd/N` would give it.
///
/// Requests are built and replies parsed here with raw bytes, not with the daemon's codec.
final class TestKernel: @unchecked Sendable {
    private let socket: Int32
    private var nextUnique: UInt64 = 1
    private let served = DispatchSemaphore(value: 0)

    struct Reply {
        var error: Int32
        var body: [UInt8]
    }

    /// Starts `server` on the daemon's end of a new socketpair.
    init(server: FuseServer) throws {
        var ends: [Int32] = [0, 0]
        guard socketpair(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue), 0, &ends) == 0 else { throw Errno(rawValue: errno) }
        socket = ends[0]
        let channel = FuseChannel(owning: FileDescriptor(rawValue: ends[1]))
        let done = served
        Thread.detachNewThread {
            try? server.serve(channel)
            done.signal()
        }
    }

    /// Hangs up, as an unmount would, and waits for the server to stop.
    func close() {
        Glibc.close(socket)
        _ = served.wait(timeout: .now() + 10)
    }

    /// Sends one request and returns its reply.
    func call(_ opcode: UInt32, node: UInt64 = 0, _ arguments: [UInt8] = []) throws -> Reply {
        let unique = nextUnique
        nextUnique += 1
        var message: [UInt8] = []
        func put<T: FixedWidthInteger>(_ value: T) { withUnsafeBytes(of: value.littleEndian) { message.append(contentsOf: $0) } }
        put(UInt32(40 + arguments.count))
        put(opcode)
        put(unique)
        put(node)
        put(UInt32(0)); put(UInt32(0)); put(UInt32(1)); put(UInt16(0)); put(UInt16(0))
        message += arguments
        guard send(socket, message, message.count, 0) == message.count else { throw Errno(rawValue: errno) }
        var buffer = [UInt8](repeating: 0, count: 2 << 20)
        let count = recv(socket, &buffer, buffer.count, 0)
        guard count >= 16 else { throw Errno(rawValue: count < 0 ? errno : EPROTO) }
        let length = UInt32(buffer[0]) | UInt32(buffer[1]) << 8 | UInt32(buffer[2]) << 16 | UInt32(buffer[3]) << 24
        guard Int(length) == count else { throw KernelFmap.Rejected(description: "reply len \(length) but \(count) bytes") }
        let error = Int32(bitPattern: UInt32(buffer[4]) | UInt32(buffer[5]) << 8 | UInt32(buffer[6]) << 16 | UInt32(buffer[7]) << 24)
        let replyUnique = buffer[8..<16].enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * $1.offset) }
        guard replyUnique == unique else { throw KernelFmap.Rejected(description: "reply to \(replyUnique), expected \(unique)") }
        return Reply(error: error, body: Array(buffer[16..<count]))
    }

    static func words(_ values: [UInt32]) -> [UInt8] {
        values.flatMap { value in withUnsafeBytes(of: value.littleEndian) { Array($0) } }
    }

    static func u64(_ bytes: [UInt8], at offset: Int) -> UInt64 {
        bytes[offset..<(offset + 8)].enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * $1.offset) }
    }

    /// INIT offering FUSE 7.`minor` with `flags2` (INIT_EXT set); returns (flags, flags2) accepted.
    func initialize(minor: UInt32, flags2: UInt32) throws -> (flags: UInt32, flags2: UInt32) {
        let initExt: UInt32 = 1 << 30
        let reply = try call(26, Self.words([7, minor, 128 << 10, initExt | 1, flags2] + Array(repeating: 0, count: 11)))
        guard reply.error == 0, reply.body.count == 64 else { throw KernelFmap.Rejected(description: "INIT failed: \(reply.error)") }
        let flags = UInt32(Self.u64(reply.body, at: 12) & 0xFFFF_FFFF)
        let flags2Out = UInt32(Self.u64(reply.body, at: 32) & 0xFFFF_FFFF)
        return (flags, flags2Out)
    }

    /// LOOKUP of `name` under `parent`; the node id, or nil with the errno.
    func lookup(_ name: String, in parent: UInt64 = 1) throws -> UInt64? {
        let reply = try call(1, node: parent, Array(name.utf8) + [0])
        return reply.error == 0 ? Self.u64(reply.body, at: 0) : nil
    }

    /// The size GETATTR reports.
    func size(of node: UInt64) throws -> UInt64 {
        let reply = try call(3, node: node, Self.words([0, 0, 0, 0]))
        return Self.u64(reply.body, at: 16 + 8)
    }

    /// OPEN read-only; the errno and the file handle the reply carries.
    func open(_ node: UInt64) throws -> (error: Int32, handle: UInt64) {
        let reply = try call(14, node: node, Self.words([0, 0]))
        return (reply.error, reply.error == 0 && reply.body.count >= 8 ? Self.u64(reply.body, at: 0) : 0)
    }

    /// RELEASE of `handle`, as the kernel sends on the last close; the errno.
    func release(_ node: UInt64, handle: UInt64) throws -> Int32 {
        var arguments: [UInt8] = []
        withUnsafeBytes(of: handle.littleEndian) { arguments += $0 }
        arguments += Self.words([0, 0, 0, 0])
        return try call(18, node: node, arguments).error
    }

    func getFmap(_ node: UInt64) throws -> Reply { try call(54, node: node) }

    func getDaxdev(_ index: UInt64) throws -> Reply { try call(55, node: index) }

    /// The device path a 280-byte GET_DAXDEV reply names, checked as the kernel reads it.
    static func daxdevName(_ reply: Reply) throws -> String {
        guard reply.error == 0, reply.body.count == 280 else {
            throw KernelFmap.Rejected(description: "GET_DAXDEV reply: error \(reply.error), \(reply.body.count) bytes")
        }
        let name = reply.body[24...]
        guard name.contains(0) else { throw KernelFmap.Rejected(description: "GET_DAXDEV name is not NUL-terminated") }
        return String(decoding: name.prefix { $0 != 0 }, as: UTF8.self)
    }

    /// READ of `size` bytes at `offset`.
    func read(_ node: UInt64, offset: UInt64, size: UInt32) throws -> Reply {
        var arguments = Self.words([0, 0])
        withUnsafeBytes(of: offset.littleEndian) { arguments += $0 }
        arguments += Self.words([size, 0, 0, 0, 0, 0])
        return try call(15, node: node, arguments)
    }
}
