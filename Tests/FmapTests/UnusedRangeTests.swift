import Fmap
import Testing

@Suite("Memory an fmap claims but a file's bytes do not occupy")
struct UnusedRangeTests {
    /// Device bytes as (device, offset) pairs.
    private func bytes(of ranges: [SimpleExtent]) -> [Pair] {
        ranges.flatMap { range in (range.offset..<(range.offset + range.length)).map { Pair(device: range.device, offset: $0) } }
    }

    private struct Pair: Hashable { var device: UInt32; var offset: UInt64 }

    @Test("with the bytes the resolver maps file bytes [0, end) to, they are every claimed byte, once",
          arguments: [
              Fmap(fileSize: 0, extents: .simple([SimpleExtent(device: 0, offset: 100, length: 10),
                                                  SimpleExtent(device: 1, offset: 0, length: 7)])),
              // Three strips, ragged: 8 chunks of 4 bytes dealt over them, strips rounded up.
              Fmap(fileSize: 0, extents: .interleaved([InterleavedExtent(chunkSize: 4, byteCount: 30, strips: [
                  SimpleExtent(device: 0, offset: 0, length: 12), SimpleExtent(device: 1, offset: 40, length: 12),
                  SimpleExtent(device: 2, offset: 8, length: 16)])])),
              // Two interleaved extents one after the other.
              Fmap(fileSize: 0, extents: .interleaved([
                  InterleavedExtent(chunkSize: 2, byteCount: 8, strips: [SimpleExtent(device: 0, offset: 0, length: 4),
                                                                         SimpleExtent(device: 1, offset: 0, length: 4)]),
                  InterleavedExtent(chunkSize: 4, byteCount: 6, strips: [SimpleExtent(device: 0, offset: 8, length: 4),
                                                                         SimpleExtent(device: 1, offset: 8, length: 8)])])),
          ])
    func unusedAndUsedPartitionTheClaim(fmap: Fmap) {
        let covered: UInt64
        switch fmap.extents {
        case .simple(let list): covered = list.reduce(0) { $0 + $1.length }
        case .interleaved(let list): covered = list.reduce(0) { $0 + $1.byteCount }
        }
        let claimed = bytes(of: fmap.claimedRanges)
        for end in 0...covered {
            var sized = fmap
            sized.fileSize = end
            let resolver = FmapResolver(sized)
            let used = (0..<end).map { offset in
                let location = resolver.resolve(offset)!
                return Pair(device: location.device, offset: location.deviceOffset)
            }
            let unused = bytes(of: fmap.rangesNotHoldingFileBytes(below: end))
            #expect((used + unused).count == claimed.count && Set(used + unused) == Set(claimed), "end \(end)")
            #expect(fmap.rangesNotHoldingFileBytes(below: end).allSatisfy { $0.length > 0 })
        }
    }
}
