import SystemPackage
import WireBytes

/// Why a superblock, log header or log entry could not be encoded or decoded.
///
/// `structure` says what was being read ("superblock", "log header", "log entry 12") so a
/// message names its place on the device; the device itself is added by the caller.
public enum MediaFormatError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A relative path longer than famfs's 80-byte field (NUL included) can hold.
    case pathTooLong(String, bytes: Int)
    /// A relative path famfs cannot store or replay (empty, absolute, `.`/`..`, NUL).
    case invalidPath(String, reason: String)
    /// More extents or strips than one log entry holds.
    case tooManyExtents(field: String, count: Int, limit: Int)
    case badMagic(structure: String, found: UInt64, expected: UInt64)
    case checksumMismatch(structure: String, stored: UInt64, computed: UInt64)
    case invalidField(structure: String, field: String, value: UInt64, reason: String)
    case truncated(structure: String, WireDecodingError)

    /// ENAMETOOLONG and EFBIG for what famfs's format cannot express, EINVAL for bad input,
    /// EIO for damaged media.
    public var errno: Errno {
        switch self {
        case .pathTooLong: return .fileNameTooLong
        case .tooManyExtents: return .fileTooLarge
        case .invalidPath: return .invalidArgument
        case .badMagic, .checksumMismatch, .invalidField, .truncated: return .ioError
        }
    }

    public var description: String {
        switch self {
        case let .pathTooLong(path, bytes):
            return "relative path '\(path)' is \(bytes) bytes; famfs's log holds at most \(FamfsMedia.relativePathField - 1)"
        case let .invalidPath(path, reason):
            return "relative path '\(path)' \(reason)"
        case let .tooManyExtents(field, count, limit):
            return "\(field): \(count) exceed the \(limit) one famfs log entry holds"
        case let .badMagic(structure, found, expected):
            return "\(structure): magic 0x\(String(found, radix: 16)) is not 0x\(String(expected, radix: 16))"
        case let .checksumMismatch(structure, stored, computed):
            return "\(structure): crc 0x\(String(stored, radix: 16)) does not match the computed 0x\(String(computed, radix: 16))"
        case let .invalidField(structure, field, value, reason):
            return "\(structure): \(field) = \(value) \(reason)"
        case let .truncated(structure, error):
            return "\(structure): \(error)"
        }
    }
}

/// A `ByteReader` that names the structure it reads in every error, for the media decoders.
struct MediaReader {
    private var reader: ByteReader
    let structure: String

    init(_ bytes: ArraySlice<UInt8>, structure: String) {
        reader = ByteReader(bytes)
        self.structure = structure
    }

    mutating func read<T: FixedWidthInteger>(_ field: String, as _: T.Type = T.self) throws(MediaFormatError) -> T {
        do { return try reader.read(T.self, field: field) } catch { throw .truncated(structure: structure, error) }
    }

    mutating func skip(_ count: Int, _ field: String) throws(MediaFormatError) {
        do { try reader.skip(count, field: field) } catch { throw .truncated(structure: structure, error) }
    }

    mutating func uuid(_ field: String) throws(MediaFormatError) -> MediaUUID {
        do {
            let bytes = try reader.readBytes(16, field: field)
            return MediaUUID(bytes: bytes) ?? .zero
        } catch { throw .truncated(structure: structure, error) }
    }

    /// A string in a fixed field that must hold its NUL terminator.
    mutating func terminatedString(_ size: Int, _ field: String) throws(MediaFormatError) -> String {
        let raw: ArraySlice<UInt8>
        do { raw = try reader.readBytes(size, field: field) } catch { throw .truncated(structure: structure, error) }
        guard let end = raw.firstIndex(of: 0) else {
            throw invalid(field, UInt64(size), "has no NUL terminator in its \(size) bytes")
        }
        return String(decoding: raw[raw.startIndex..<end], as: UTF8.self)
    }

    func invalid(_ field: String, _ value: UInt64, _ reason: String) -> MediaFormatError {
        .invalidField(structure: structure, field: field, value: value, reason: reason)
    }
}
