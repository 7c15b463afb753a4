/// Which device ranges are taken, and by whom: the overlap check between files' extents.
///
/// Ranges are kept sorted per device, so a lookup or insertion costs a binary search.
public struct DeviceRangeMap: Sendable {
    public struct Claim: Hashable, Sendable {
        public var range: SimpleExtent
        public var owner: String
    }

    private var claimsByDevice: [UInt32: [Claim]] = [:]

    public init() {}

    /// The first claim that shares a byte with `range`, if any.
    public func firstOverlap(with range: SimpleExtent) -> Claim? {
        guard let claims = claimsByDevice[range.device], range.length > 0 else { return nil }
        let i = Self.firstIndex(in: claims, endingAfter: range.offset)
        guard i < claims.count, claims[i].range.offset < range.end else { return nil }
        return claims[i]
    }

    /// Records `range` as taken by `owner`. The caller checks `firstOverlap` first.
    public mutating func insert(_ range: SimpleExtent, owner: String) {
        let i = Self.firstIndex(in: claimsByDevice[range.device, default: []], endingAfter: range.offset)
        // Inserting through the subscript edits the array in place; a copy would make filling quadratic.
        claimsByDevice[range.device, default: []].insert(Claim(range: range, owner: owner), at: i)
    }

    /// Claims every range of `fmap` for `owner`, or throws naming the file it collides with.
    public mutating func claim(_ fmap: Fmap, owner: String) throws(FmapValidationError) {
        let ranges = fmap.claimedRanges
        for range in ranges {
            if let clash = firstOverlap(with: range) {
                throw FmapValidationError(field: "extents", reason: "\(range) overlaps \(clash.range) of \(clash.owner)")
            }
        }
        for range in ranges { insert(range, owner: owner) }
    }

    /// Bytes claimed on `device`.
    public func usedBytes(onDevice device: UInt32) -> UInt64 {
        claimsByDevice[device, default: []].reduce(0) { $0 + $1.range.length }
    }

    /// Index of the first claim whose end lies beyond `offset` (claims are disjoint and sorted).
    private static func firstIndex(in claims: [Claim], endingAfter offset: UInt64) -> Int {
        var low = 0, high = claims.count
        while low < high {
            let mid = (low + high) / 2
            if claims[mid].range.end <= offset { low = mid + 1 } else { high = mid }
        }
        return low
    }
}
