import Fmap

/// The allocation state of one device: a bitmap of fixed-size allocation units.
///
/// famfs hands memory out in 2 MiB units and never to the reserved prefix (superblock and
/// log). Allocation is first fit; every unit below `lowestMaybeFree` is used, so a filling
/// device (or one replayed from a long log) skips its full prefix.
public struct DeviceSpace: Sendable {
    public let size: UInt64
    public let unit: UInt64
    private var words: [UInt64]
    private let unitCount: Int
    private var lowestMaybeFree: Int = 0
    public private(set) var usedBytes: UInt64 = 0

    /// A device of `size` bytes whose first `reservedBytes` (rounded up to a unit) are never allocated.
    public init(size: UInt64, unit: UInt64 = FmapLimits.mib2, reservedBytes: UInt64 = 0) {
        precondition(unit > 0 && unit.nonzeroBitCount == 1, "allocation unit must be a power of two")
        self.size = size
        self.unit = unit
        unitCount = Int(size / unit)
        words = Array(repeating: 0, count: (unitCount + 63) / 64)
        let reservedUnits = Int(min((reservedBytes + unit - 1) / unit, UInt64(unitCount)))
        setUnits(0..<reservedUnits, used: true)
        usedBytes = UInt64(reservedUnits) * unit
        lowestMaybeFree = firstFreeUnit(from: 0)
    }

    /// Allocatable bytes: whole units not yet taken.
    public var freeBytes: UInt64 { UInt64(unitCount) * unit - usedBytes }

    /// Takes the first free run of units holding `bytes`, starting on a multiple of
    /// `alignment`; returns its byte offset, or nil when no run is large enough.
    public mutating func allocate(bytes: UInt64, alignment: UInt64) -> UInt64? {
        guard bytes > 0 else { return nil }
        let needed = Int((bytes + unit - 1) / unit)
        let step = max(1, Int(max(alignment, unit) / unit))
        func aligned(_ unit: Int) -> Int { (unit + step - 1) / step * step }
        var start = aligned(lowestMaybeFree)
        while start + needed <= unitCount {
            if let taken = firstUsedUnit(in: start..<(start + needed)) {
                start = aligned(firstFreeUnit(from: taken))
                continue
            }
            setUnits(start..<(start + needed), used: true)
            usedBytes += UInt64(needed) * unit
            lowestMaybeFree = firstFreeUnit(from: lowestMaybeFree)
            return UInt64(start) * unit
        }
        return nil
    }

    /// Marks an existing allocation (from the log) as used. Returns false, changing nothing,
    /// when any of its units is already taken or it leaves the device: a collision.
    public mutating func claim(offset: UInt64, length: UInt64) -> Bool {
        guard let units = unitRange(offset: offset, length: length),
              firstUsedUnit(in: units) == nil else { return false }
        setUnits(units, used: true)
        usedBytes += UInt64(units.count) * unit
        lowestMaybeFree = firstFreeUnit(from: lowestMaybeFree)
        return true
    }

    /// Returns an allocation's units to the free pool.
    public mutating func release(offset: UInt64, length: UInt64) {
        guard let units = unitRange(offset: offset, length: length) else { return }
        for i in units where isUsed(i) { usedBytes -= unit }
        setUnits(units, used: false)
        lowestMaybeFree = min(lowestMaybeFree, units.lowerBound)
    }

    private func unitRange(offset: UInt64, length: UInt64) -> Range<Int>? {
        let (end, overflow) = offset.addingReportingOverflow(length)
        guard !overflow, length > 0, end <= UInt64(unitCount) * unit else { return nil }
        return Int(offset / unit)..<Int((end + unit - 1) / unit)
    }

    private func isUsed(_ i: Int) -> Bool { words[i >> 6] & (1 << UInt64(i & 63)) != 0 }

    private func firstUsedUnit(in units: Range<Int>) -> Int? {
        var i = units.lowerBound
        while i < units.upperBound {
            let word = words[i >> 6] >> UInt64(i & 63)
            if word == 0 {
                i = (i | 63) + 1
                continue
            }
            let hit = i + word.trailingZeroBitCount
            return hit < units.upperBound ? hit : nil
        }
        return nil
    }

    /// The first free unit at or after `i`; `unitCount` when there is none.
    private func firstFreeUnit(from i: Int) -> Int {
        var i = i
        while i < unitCount {
            let free = ~words[i >> 6] >> UInt64(i & 63)
            if free == 0 {
                i = (i | 63) + 1
                continue
            }
            return min(i + free.trailingZeroBitCount, unitCount)
        }
        return unitCount
    }

    private mutating func setUnits(_ units: Range<Int>, used: Bool) {
        for i in units {
            if used { words[i >> 6] |= 1 << UInt64(i & 63) } else { words[i >> 6] &= ~(1 << UInt64(i & 63)) }
        }
    }
}
