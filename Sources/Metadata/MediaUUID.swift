/// A 16-byte uuid as famfs stores it (libuuid byte order: the bytes as printed).
public struct MediaUUID: Hashable, Sendable, CustomStringConvertible {
    public let bytes: [UInt8]

    /// The all-zero uuid, which no device or file system is given.
    public static let zero = MediaUUID(validBytes: Array(repeating: 0, count: 16))

    /// A uuid from exactly 16 bytes; nil for any other count.
    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == 16 else { return nil }
        self.bytes = Array(bytes)
    }

    /// Parses 32 hex digits, with or without the usual dashes (`/etc/machine-id` has none).
    public init?(string: some StringProtocol) {
        let digits = String(string.filter { $0 != "-" })
        guard digits.count == 32 else { return nil }
        var bytes: [UInt8] = []
        var index = digits.startIndex
        while index < digits.endIndex {
            let next = digits.index(index, offsetBy: 2)
            guard let byte = UInt8(digits[index..<next], radix: 16) else { return nil }
            bytes.append(byte)
            index = next
        }
        self.bytes = bytes
    }

    /// A random (version 4) uuid.
    public static func random() -> MediaUUID {
        var generator = SystemRandomNumberGenerator()
        var bytes = (0..<16).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        bytes[6] = bytes[6] & 0x0f | 0x40
        bytes[8] = bytes[8] & 0x3f | 0x80
        return MediaUUID(validBytes: bytes)
    }

    private init(validBytes: [UInt8]) { bytes = validBytes }

    public var description: String {
        let hex = bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }
        return [0..<4, 4..<6, 6..<8, 8..<10, 10..<16].map { hex[$0].joined() }.joined(separator: "-")
    }
}
