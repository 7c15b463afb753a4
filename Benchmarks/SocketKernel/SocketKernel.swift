import Foundation
import Server
import SystemPackage

/// Plays the kernel side of a FUSE connection over a SOCK_SEQPACKET socketpair: a
/// `FuseServer` in this process gets the other end as its channel, as `/dev/fd/N` would give
/// it. One request is in flight at a time; requests are built and replies parsed with raw
/// bytes, not with the daemon's codec, so round trips measure the server alone.
public final class SocketKernel: @unchecked Sendable {
    private let socket: Int32
    private var nextUnique: UInt64 = 1
    private var replyBuffer = [UInt8](repeating: 0, count: 2 << 20)
    private var message: [UInt8] = []
    private let served = DispatchSemaphore(value: 0)

    public struct Reply {
        /// 0, or a negative errno.
        public var error: Int32
        public var body: ArraySlice<UInt8>
    }

    public struct ProtocolError: Error, CustomStringConvertible {
        public var description: String
    }

    public enum Opcode: UInt32 {
        case lookup = 1
        case getattr = 3
        case open = 14
        case read = 15
        case initialize = 26
        case getFmap = 54
    }

    /// Starts `server` on the daemon's end of a new socketpair.
    public init(server: FuseServer) throws {
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
    public func close() {
        Glibc.close(socket)
        _ = served.wait(timeout: .now() + 10)
    }

    /// Sends one request and returns its reply; the body is valid until the next call.
    public func call(_ opcode: Opcode, node: UInt64 = 0, _ arguments: [UInt8] = []) throws -> Reply {
        let unique = nextUnique
        nextUnique += 1
        message.removeAll(keepingCapacity: true)
        Self.put(UInt32(40 + arguments.count), into: &message)
        Self.put(opcode.rawValue, into: &message)
        Self.put(unique, into: &message)
        Self.put(node, into: &message)
        for field: UInt32 in [0, 0, 1, 0] { Self.put(field, into: &message) }
        message += arguments
        let sent = message.withUnsafeBytes { send(socket, $0.baseAddress, $0.count, 0) }
        guard sent == message.count else { throw Errno(rawValue: errno) }
        let count = replyBuffer.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
        guard count >= 16 else { throw count < 0 ? Errno(rawValue: errno) : ProtocolError(description: "short reply: \(count) bytes") }
        guard Self.u32(replyBuffer, at: 0) == UInt32(count) else { throw ProtocolError(description: "reply length field disagrees with \(count) bytes") }
        guard Self.u64(replyBuffer, at: 8) == unique else { throw ProtocolError(description: "reply to another request than \(unique)") }
        return Reply(error: Int32(bitPattern: Self.u32(replyBuffer, at: 4)), body: replyBuffer[16..<count])
    }

    /// INIT offering FUSE 7.`minor` with INIT_EXT and `flags2`; the (flags, flags2) accepted.
    public func initialize(minor: UInt32, flags2: UInt32) throws -> (flags: UInt32, flags2: UInt32) {
        let initExt: UInt32 = 1 << 30
        let reply = try call(.initialize, Self.words([7, minor, 128 << 10, initExt | 1, flags2] + Array(repeating: 0, count: 11)))
        guard reply.error == 0, reply.body.count == 64 else { throw ProtocolError(description: "INIT failed with \(reply.error)") }
        let base = reply.body.startIndex
        return (Self.u32(replyBuffer, at: base + 12), Self.u32(replyBuffer, at: base + 32))
    }

    /// The node id of `name` under `parent`, or nil when LOOKUP fails.
    public func lookup(_ name: String, in parent: UInt64 = 1) throws -> UInt64? {
        let reply = try call(.lookup, node: parent, Array(name.utf8) + [0])
        return reply.error == 0 ? Self.u64(replyBuffer, at: reply.body.startIndex) : nil
    }

    public func open(_ node: UInt64) throws -> Int32 { try call(.open, node: node, Self.words([0, 0])).error }

    public static let getattrArguments = words([0, 0, 0, 0])

    public static func words(_ values: [UInt32]) -> [UInt8] {
        var bytes: [UInt8] = []
        for value in values { put(value, into: &bytes) }
        return bytes
    }

    private static func put<T: FixedWidthInteger>(_ value: T, into bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    private static func u32(_ bytes: [UInt8], at offset: Int) -> UInt32 {
        (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[offset + $1]) << (8 * $1) }
    }

    private static func u64(_ bytes: [UInt8], at offset: Int) -> UInt64 {
        (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[offset + $1]) << (8 * $1) }
    }
}
