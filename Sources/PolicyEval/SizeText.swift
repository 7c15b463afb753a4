import Foundation

/// Byte counts written the way operators write them: `4096`, `2M`, `64G`, `1.5T`.
public enum SizeText {
    /// Parses a size with an optional K, M, G or T suffix (powers of 1024, case-insensitive,
    /// an optional trailing `B` or `iB` allowed, spaces before it too); a fraction needs a
    /// suffix and is rounded down. Nil when the text is not a size. `lib.famfs`'s
    /// `parse_size` takes the same sizes.
    public static func parse(_ text: String) -> UInt64? {
        var digits = Substring(text.trimmingCharacters(in: .whitespaces))
        for suffix in ["ib", "b"] where digits.lowercased().hasSuffix(suffix) && digits.count > suffix.count {
            digits = digits.dropLast(suffix.count)
            break
        }
        var shift: UInt64 = 0
        if let last = digits.last?.lowercased(), let index = ["k", "m", "g", "t"].firstIndex(of: last) {
            shift = UInt64(10 * (index + 1))
            digits = digits.dropLast()
        }
        digits = Substring(digits.trimmingCharacters(in: .whitespaces)) // "10 M", "512 B"
        if let whole = UInt64(digits) {
            let (value, overflow) = whole.multipliedReportingOverflow(by: 1 << shift)
            return overflow ? nil : value
        }
        guard shift > 0, let fraction = Double(digits), fraction >= 0,
              fraction * Double(UInt64(1) << shift) < Double(UInt64.max) else { return nil }
        return UInt64(fraction * Double(UInt64(1) << shift))
    }

    /// `bytes` with the largest suffix that keeps it exact, e.g. `64G`, `2M`, `4097`.
    public static func format(_ bytes: UInt64) -> String {
        for (shift, suffix) in [(40, "T"), (30, "G"), (20, "M"), (10, "K")] where bytes != 0 && bytes % (1 << UInt64(shift)) == 0 {
            return "\(bytes >> UInt64(shift))\(suffix)"
        }
        return String(bytes)
    }
}
