import PolicyEval
import Testing

@Test func sizesAcceptPlainNumbersAndBinarySuffixes() {
    #expect(SizeText.parse("4096") == 4096)
    #expect(SizeText.parse("2M") == 2 << 20)
    #expect(SizeText.parse("64g") == 64 << 30)
    #expect(SizeText.parse("1T") == 1 << 40)
    #expect(SizeText.parse("8KiB") == 8 << 10)
    #expect(SizeText.parse("1.5G") == 3 << 29)
    #expect(SizeText.parse("10 M") == 10 << 20)
    #expect(SizeText.parse("10 MiB") == 10 << 20)
    #expect(SizeText.parse("512 B") == 512)
}

@Test func sizesRefuseGarbageAndOverflow() {
    #expect(SizeText.parse("") == nil)
    #expect(SizeText.parse("12Q") == nil)
    #expect(SizeText.parse("-1M") == nil)
    #expect(SizeText.parse("99999999999T") == nil)
    #expect(SizeText.parse("1.5") == nil, "a fraction needs a suffix")
    #expect(SizeText.parse("1 0M") == nil)
}

@Test func sizesFormatWithTheLargestExactSuffix() {
    #expect(SizeText.format(64 << 30) == "64G")
    #expect(SizeText.format(2 << 20) == "2M")
    #expect(SizeText.format(4097) == "4097")
}
