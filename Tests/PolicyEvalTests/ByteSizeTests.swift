import PolicyEval
import Testing

@Test func sizesAcceptPlainNumbersAndBinarySuffixes() {
    #expect(ByteSize.parse("4096") == 4096)
    #expect(ByteSize.parse("2M") == 2 << 20)
    #expect(ByteSize.parse("64g") == 64 << 30)
    #expect(ByteSize.parse("1T") == 1 << 40)
    #expect(ByteSize.parse("8KiB") == 8 << 10)
    #expect(ByteSize.parse("1.5G") == 3 << 29)
}

@Test func sizesRefuseGarbageAndOverflow() {
    #expect(ByteSize.parse("") == nil)
    #expect(ByteSize.parse("12Q") == nil)
    #expect(ByteSize.parse("-1M") == nil)
    #expect(ByteSize.parse("99999999999T") == nil)
}

@Test func sizesFormatWithTheLargestExactSuffix() {
    #expect(ByteSize.format(64 << 30) == "64G")
    #expect(ByteSize.format(2 << 20) == "2M")
    #expect(ByteSize.format(4097) == "4097")
}
