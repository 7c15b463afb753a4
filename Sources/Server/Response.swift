import SystemPackage
import FuseWire

/// What a worker sends back for one request.
public enum Response {
    /// A complete message.
    case message([UInt8])
    /// A READ reply: header, then memory straight from the device mappings.
    case data(unique: UInt64, pieces: [UnsafeRawBufferPointer])
    /// FORGET and BATCH_FORGET get no reply.
    case none

    static func error(_ unique: UInt64, _ errno: Errno) -> Response {
        .message(Reply.status(unique: unique, errno: errno.rawValue))
    }

    static func ok(_ unique: UInt64) -> Response {
        .message(Reply.status(unique: unique, errno: 0))
    }

    static func reply(_ unique: UInt64, _ body: some WireStruct) -> Response {
        .message(Reply.success(unique: unique, body))
    }

    static func bytes(_ unique: UInt64, _ body: some Sequence<UInt8>) -> Response {
        .message(Reply.success(unique: unique, body: body))
    }
}
