/// Appends little-endian fields to a growing byte array.
public struct ByteWriter {
    public private(set) var bytes: [UInt8]

    public init(capacity: Int = 64) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    public var count: Int { bytes.count }

    public mutating func write<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    public mutating func write<S: Sequence>(bytes other: S) where S.Element == UInt8 {
        bytes.append(contentsOf: other)
    }

    /// Appends `count` zero bytes (reserved fields and padding).
    public mutating func writeZeros(_ count: Int) {
        bytes.append(contentsOf: repeatElement(0, count: count))
    }

    /// Appends `string`'s UTF-8 bytes and a NUL.
    public mutating func writeCString(_ string: String) {
        bytes.append(contentsOf: string.utf8)
        bytes.append(0)
    }

    /// Writes `string` into a fixed-size, NUL-padded field; the caller checks it fits
    /// (`fits(_:inFixedField:)`) so that nothing is silently cut.
    public mutating func writeFixedString(_ string: String, size: Int) {
        let utf8 = Array(string.utf8.prefix(size))
        bytes.append(contentsOf: utf8)
        writeZeros(size - utf8.count)
    }

    /// Pads with zeros up to a multiple of `alignment` bytes.
    public mutating func pad(toMultipleOf alignment: Int) {
        let excess = bytes.count % alignment
        if excess != 0 { writeZeros(alignment - excess) }
    }

    /// Overwrites a little-endian integer already written at `offset` (for lengths known last).
    public mutating func patch<T: FixedWidthInteger>(_ value: T, at offset: Int) {
        withUnsafeBytes(of: value.littleEndian) { raw in
            bytes.replaceSubrange(offset..<(offset + raw.count), with: raw)
        }
    }
}

extension String {
    /// Whether the string, plus its NUL terminator, fits a fixed field of `size` bytes.
    public func fitsNulTerminated(in size: Int) -> Bool { utf8.count < size }
}
