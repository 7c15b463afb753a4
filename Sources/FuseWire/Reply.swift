import WireBytes

/// Builds reply and notification messages: `fuse_out_header` followed by a body.
public enum Reply {
    /// A success reply carrying `body` (a struct's bytes, file data, a listing).
    public static func success<Body: Sequence>(unique: UInt64, body: Body) -> [UInt8] where Body.Element == UInt8 {
        var output = ByteWriter(capacity: OutHeader.wireSize + 64)
        OutHeader(length: 0, error: 0, unique: unique).write(to: &output)
        output.write(bytes: body)
        output.patch(UInt32(output.count), at: 0)
        return output.bytes
    }

    /// A success reply whose body is one struct.
    public static func success(unique: UInt64, _ body: some WireStruct) -> [UInt8] {
        success(unique: unique, body: body.encoded)
    }

    /// A reply with no body: success (0) or a failure (`errno` > 0, sent negated).
    public static func status(unique: UInt64, errno: Int32) -> [UInt8] {
        OutHeader(length: UInt32(OutHeader.wireSize), error: -errno, unique: unique).encoded
    }

    /// The header for a success reply whose `bodyLength` bytes the caller sends after it
    /// (for `writev` straight from device memory).
    public static func header(unique: UInt64, bodyLength: Int) -> OutHeader {
        OutHeader(length: UInt32(OutHeader.wireSize + bodyLength), error: 0, unique: unique)
    }

    /// An unsolicited notification: unique 0 and the notification code in `error`.
    public static func notification(_ body: InvalidateInodeNotification) -> [UInt8] {
        var output = ByteWriter(capacity: OutHeader.wireSize + InvalidateInodeNotification.wireSize)
        OutHeader(length: UInt32(OutHeader.wireSize + InvalidateInodeNotification.wireSize),
                  error: InvalidateInodeNotification.code, unique: 0).write(to: &output)
        body.write(to: &output)
        return output.bytes
    }

    /// Splits a reply into its header and body, checking `len` against the bytes received.
    public static func decode(_ bytes: ArraySlice<UInt8>) throws(WireDecodingError) -> (header: OutHeader, body: ArraySlice<UInt8>) {
        var input = ByteReader(bytes)
        let header = try OutHeader(reading: &input)
        guard header.length == bytes.count else {
            throw .invalidLength(field: "fuse_out_header.len", value: UInt64(header.length),
                                 reason: "the message is \(bytes.count) bytes")
        }
        guard header.error <= 0 || header.unique == 0 else {
            throw .invalidValue(field: "fuse_out_header.error", value: UInt64(header.error),
                                reason: "a reply's error must be 0 or a negative errno")
        }
        return (header, input.bytes)
    }
}
