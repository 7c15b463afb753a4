import CCacheLines
import Testing

@Suite struct CacheLineTests {
    @Test func lineSizeIsAPowerOfTwo() {
        let size = ccache_line_size()
        #expect(size >= 16 && size <= 512 && size & (size - 1) == 0, "\(size)")
    }

    @Test("every line overlapping the range is flushed once, and the bytes stay")
    func linesOverlappingTheRangeAreFlushed() {
        let line = ccache_line_size()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 8 * line, alignment: line)
        defer { buffer.deallocate() }
        for index in buffer.indices { buffer[index] = UInt8(truncatingIfNeeded: index &* 7) }
        let start = buffer.baseAddress!
        #expect(ccache_flush(start, 0) == 0)
        #expect(ccache_flush(start, 1) == 1)
        #expect(ccache_flush(start, line) == 1)
        #expect(ccache_flush(start, line + 1) == 2)
        #expect(ccache_flush(start + line - 1, 2) == 2)
        #expect(ccache_flush(start + 1, 4 * line) == 5)
        #expect(ccache_flush(start, 8 * line) == 8)
        #expect(buffer.indices.allSatisfy { buffer[$0] == UInt8(truncatingIfNeeded: $0 &* 7) })
    }
}
