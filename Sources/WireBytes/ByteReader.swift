/// Why a byte sequence could not be decoded. Every case names the field being read.
public enum WireDecodingError: Error, Equatable, CustomStringConvertible {
    /// The input ended before `field` was complete.
    case truncated(field: String, needed: Int, available: Int)
    /// A length or count field announced something the input or the protocol cannot hold.
    case invalidLength(field: String, value: UInt64, reason: String)
    /// A field held a value outside its allowed set.
    case invalidValue(field: String, value: UInt64, reason: String)

    public var description: String {
        switch self {
        case let .truncated(field, needed, available):
            return "truncated \(field): needs \(needed) bytes, \(available) available"
        case let .invalidLength(field, value, reason):
            return "invalid length in \(field) (\(value)): \(reason)"
        case let .invalidValue(field, value, reason):
            return "invalid \(field) (\(value)): \(reason)"
        }
    }
}

/// Reads little-endian fields from a byte slice, front to back, never past its end.
///
/// Every read checks the remaining length first and throws `WireDecodingError.truncated`
/// naming the field, so a decoder built on it cannot over-read whatever the input claims.
public struct ByteReader {
    public private(set) var bytes: ArraySlice<UInt8>

    public init(_ bytes: ArraySlice<UInt8>) { self.bytes = bytes }
    public init(_ bytes: [UInt8]) { self.bytes = bytes[...] }

    /// Bytes not yet read.
    public var remainingCount: Int { bytes.count }

    /// Reads a fixed-width little-endian integer.
    public mutating func read<T: FixedWidthInteger>(_: T.Type = T.self, field: String) throws(WireDecodingError) -> T {
        let size = MemoryLayout<T>.size
        guard bytes.count >= size else {
            throw .truncated(field: field, needed: size, available: bytes.count)
        }
        let value = bytes.withUnsafeBytes { $0.loadUnaligned(as: T.self) }
        bytes = bytes.dropFirst(size)
        return T(littleEndian: value)
    }

    /// Takes the next `count` bytes as a slice sharing the input's storage.
    public mutating func readBytes(_ count: Int, field: String) throws(WireDecodingError) -> ArraySlice<UInt8> {
        guard count >= 0, bytes.count >= count else {
            throw .truncated(field: field, needed: count, available: bytes.count)
        }
        let taken = bytes.prefix(count)
        bytes = bytes.dropFirst(count)
        return taken
    }

    /// Skips `count` reserved or padding bytes.
    public mutating func skip(_ count: Int, field: String) throws(WireDecodingError) {
        _ = try readBytes(count, field: field)
    }

    /// Reads a NUL-terminated UTF-8 string and consumes its terminator.
    public mutating func readCString(field: String) throws(WireDecodingError) -> String {
        guard let end = bytes.firstIndex(of: 0) else {
            throw .invalidValue(field: field, value: UInt64(bytes.count), reason: "string is not NUL-terminated")
        }
        let string = String(decoding: bytes[bytes.startIndex..<end], as: UTF8.self)
        bytes = bytes[(end + 1)...]
        return string
    }

    /// Reads a string stored in a fixed-size field, ending at its first NUL (or the field's end).
    public mutating func readFixedString(_ size: Int, field: String) throws(WireDecodingError) -> String {
        let raw = try readBytes(size, field: field)
        let end = raw.firstIndex(of: 0) ?? raw.endIndex
        return String(decoding: raw[raw.startIndex..<end], as: UTF8.self)
    }
}
