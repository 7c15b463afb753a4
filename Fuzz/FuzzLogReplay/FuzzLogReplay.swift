import CZlib
import Fmap
import FuzzSupport
import Metadata

/// famfs's log as replay reads it at mount. Byte 0 of an input holds flags, the rest is cut
/// into 544-byte slots (the last one zero-padded). A fuzzer cannot forge crc32s, so the
/// flags ask the harness to stamp them (and the sequence numbers) to reach the entry
/// decoders and replay's claim logic; without them it fuzzes the checksum path.
///
/// Replay never traps, and what it admits is consistent: entries in log order, every FILE
/// entry's ranges on a known device, inside it, clear of the reserved metadata and of every
/// other admitted file.
func fuzzOne(_ input: [UInt8]) {
    guard let flags = input.first else { return }
    let body = input.dropFirst()
    // Flag 8: the bytes are also a superblock followed by a log header.
    if flags & 8 != 0 {
        _ = try? Superblock(decoding: body).validate(deviceSize: deviceSize)
        _ = try? LogHeader(decoding: body.dropFirst(Superblock.encodedSize), expectedLength: FamfsMedia.defaultLogLength)
    }
    let slotSize = LogEntry.encodedSize
    var slots: [[UInt8]] = stride(from: body.startIndex, to: body.endIndex, by: slotSize).map { start in
        var slot = Array(body[start..<min(start + slotSize, body.endIndex)])
        slot += [UInt8](repeating: 0, count: slotSize - slot.count)
        return slot
    }
    for index in slots.indices {
        if flags & 1 != 0 { stamp(UInt64(index), into: &slots[index], at: 0) }
        if flags & 2 != 0 {
            let crc = UInt64(slots[index].withUnsafeBytes { czlib_crc32($0.baseAddress, LogEntry.crcOffset) })
            stamp(crc, into: &slots[index], at: LogEntry.crcOffset)
        }
    }
    var header = LogHeader(length: FamfsMedia.defaultLogLength)
    // Flag 4 leaves the last slot past the header's end, as an append torn before the header moved.
    header.nextIndex = UInt64(flags & 4 != 0 ? max(0, slots.count - 1) : slots.count)
    header.nextSeqnum = header.nextIndex
    let replay = LogReplay(superblock: superblock, header: header) { index in
        index < UInt64(slots.count) ? slots[Int(index)][...] : [UInt8](repeating: 0, count: slotSize)[...]
    }
    check(replay, header: header)
}

let deviceSize: UInt64 = 1 << 30
let superblock = Superblock(
    logOffset: FamfsMedia.superblockReservation, logLength: FamfsMedia.defaultLogLength,
    fileSystemUUID: MediaUUID(bytes: [UInt8](repeating: 1, count: 16))!,
    systemUUID: MediaUUID(bytes: [UInt8](repeating: 2, count: 16))!, role: .primary,
    device: .init(size: deviceSize, uuid: MediaUUID(bytes: [UInt8](repeating: 3, count: 16))!, name: "fuzz0"))

func stamp(_ value: UInt64, into slot: inout [UInt8], at offset: Int) {
    for byte in 0..<8 { slot[offset + byte] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(byte))) }
}

func check(_ replay: LogReplay, header: LogHeader) {
    guard replay.appendIndex <= header.nextIndex else {
        FuzzReplay.fail("append index \(replay.appendIndex) is past the header's \(header.nextIndex)")
    }
    let indices = replay.entries.map(\.index)
    guard indices == indices.sorted(), Set(indices).count == indices.count else {
        FuzzReplay.fail("entries out of order: \(indices)")
    }
    var claimed = [SimpleExtent(device: 0, offset: 0, length: superblock.reservedBytes)]
    for item in replay.entries {
        guard case .file(let file) = item.entry else { continue }
        for range in file.fmap.claimedRanges {
            guard Int(range.device) < replay.devices.count else {
                FuzzReplay.fail("entry \(item.index) uses device \(range.device) of \(replay.devices.count)")
            }
            let size = replay.devices[Int(range.device)].size
            guard range.length > 0, range.offset <= size, range.length <= size - range.offset else {
                FuzzReplay.fail("entry \(item.index) range \(range) leaves its \(size)-byte device")
            }
            if let clash = claimed.first(where: { $0.device == range.device && $0.offset < range.offset + range.length
                                                   && range.offset < $0.offset + $0.length }) {
                FuzzReplay.fail("entry \(item.index) range \(range) overlaps \(clash)")
            }
            claimed.append(range)
        }
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzerTestOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    fuzzOne(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}

// scripts/fuzz builds with -DFUZZING, and libFuzzer's main drives the function above.
#if !FUZZING
@main
enum FuzzLogReplayReplay {
    static func main() { FuzzReplay.main(Array(CommandLine.arguments.dropFirst()), fuzzOne) }
}
#endif
