/// Counts written with their noun: `1 test`, `2 tests`, `0 files`.
public enum CountText {
    /// `count` and `noun`, with an `s` unless the count is one.
    public static func format(_ count: Int, _ noun: String) -> String {
        "\(count) \(noun)\(count == 1 ? "" : "s")"
    }
}
