internal import CZlib

/// zlib's crc32, the checksum famfs stores (widened to u64) in superblocks, log headers and entries.
enum Checksum {
    static func crc32(_ bytes: ArraySlice<UInt8>) -> UInt64 {
        UInt64(bytes.withUnsafeBytes { czlib_crc32($0.baseAddress, $0.count) })
    }
}
