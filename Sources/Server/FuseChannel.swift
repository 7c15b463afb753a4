import CFuse
import FuseWire
import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// One descriptor of a FUSE connection: `/dev/fuse` (or a clone of it), or — when the
/// daemon is handed `/dev/fd/N` — whatever N is, such as a socket played by a test kernel.
///
/// Reads return exactly one request; writes carry exactly one reply. The channel owns its
/// descriptor and closes it when it goes away.
public final class FuseChannel: @unchecked Sendable {
    public let descriptor: FileDescriptor

    public init(owning descriptor: FileDescriptor) { self.descriptor = descriptor }

    deinit { try? descriptor.close() }

    /// Whether the descriptor is a character device (/dev/fuse or a clone of it), which
    /// takes the FUSE ioctls; a socket given as `/dev/fd/N` does not.
    public var isFuseDevice: Bool {
        (try? descriptor.stat().type) == .characterSpecial
    }

    /// A second descriptor on the same connection for another worker: a kernel clone where
    /// `/dev/fuse` allows it, a `dup` otherwise (sockets, older kernels).
    public func makeWorkerChannel() throws(Errno) -> FuseChannel {
        if let clone = try? FileDescriptor.open("/dev/fuse", .readWrite, options: .closeOnExec) {
            if cfuse_ioctl_clone(clone.rawValue, descriptor.rawValue) == 0 { return FuseChannel(owning: clone) }
            try? clone.close()
        }
        do {
            return FuseChannel(owning: try descriptor.duplicate())
        } catch let error as Errno {
            throw error
        } catch {
            throw .ioError
        }
    }

    /// Why a receive produced no request.
    public enum ReceiveOutcome {
        case request(Int)
        /// The connection is gone (unmounted, or the peer closed its end).
        case closed
    }

    /// Reads the next request into `buffer`; retries interruptions and requests the kernel withdrew.
    public func receive(into buffer: UnsafeMutableRawBufferPointer) throws(Errno) -> ReceiveOutcome {
        while true {
            let count = read(descriptor.rawValue, buffer.baseAddress, buffer.count)
            if count > 0 { return .request(count) }
            if count == 0 { return .closed }
            let error = Errno(rawValue: errno)
            switch error {
            case .interrupted, .noSuchFileOrDirectory, .resourceTemporarilyUnavailable: continue
            case .operationNotSupportedByDevice, .badFileDescriptor, .connectionReset: return .closed
            default: throw error
            }
        }
    }

    /// Sends one message. A reply to a request the kernel has since abandoned fails with
    /// ENOENT, which is not an error of ours.
    public func send(_ message: [UInt8]) throws(Errno) {
        let result = message.withUnsafeBytes { write(descriptor.rawValue, $0.baseAddress, $0.count) }
        try check(result, expected: message.count)
    }

    /// Sends a reply header followed by `pieces` of memory (device memory for READ), in one writev.
    public func send(header: [UInt8], pieces: [UnsafeRawBufferPointer]) throws(Errno) {
        var total = header.count
        let result = header.withUnsafeBytes { headerBytes -> Int in
            var vectors = [iovec(iov_base: UnsafeMutableRawPointer(mutating: headerBytes.baseAddress), iov_len: headerBytes.count)]
            for piece in pieces where piece.count > 0 {
                vectors.append(iovec(iov_base: UnsafeMutableRawPointer(mutating: piece.baseAddress), iov_len: piece.count))
                total += piece.count
            }
            return vectors.withUnsafeBufferPointer { writev(descriptor.rawValue, $0.baseAddress, Int32($0.count)) }
        }
        try check(result, expected: total)
    }

    private func check(_ result: Int, expected: Int) throws(Errno) {
        if result == expected { return }
        if result < 0 {
            let error = Errno(rawValue: errno)
            if error == .noSuchFileOrDirectory { return }
            throw error
        }
        throw .ioError
    }
}
