import WireBytes

/// A fixed-layout FUSE struct: it knows its size on the wire and how to read and write itself.
///
/// Every conformer's `wireSize` is checked against the kernel's C definition in the tests.
public protocol WireStruct: Equatable, Sendable {
    static var wireSize: Int { get }
    init(reading input: inout ByteReader) throws(WireDecodingError)
    func write(to output: inout ByteWriter)
}

extension WireStruct {
    /// The struct's bytes alone.
    public var encoded: [UInt8] {
        var output = ByteWriter(capacity: Self.wireSize)
        write(to: &output)
        return output.bytes
    }

    /// Decodes exactly one struct from `bytes`, refusing short and overlong input.
    public static func decode(_ bytes: ArraySlice<UInt8>) throws(WireDecodingError) -> Self {
        var input = ByteReader(bytes)
        let value = try Self(reading: &input)
        guard input.remainingCount == 0 else {
            throw .invalidLength(field: "\(Self.self)", value: UInt64(bytes.count),
                                 reason: "\(input.remainingCount) bytes follow the \(wireSize)-byte struct")
        }
        return value
    }
}
