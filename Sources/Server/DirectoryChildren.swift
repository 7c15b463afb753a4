/// A directory's children: node ids by name, and the order they were added in, where each
/// child holds a cookie (its place in a READDIR listing) for as long as it stays.
///
/// Cookies only grow, so a listing that resumes after cookie `c` continues with exactly the
/// children added after the one it stopped at: a child removed meanwhile is gone, one added
/// meanwhile comes at the end, and none that stayed is skipped or repeated. Resuming costs a
/// binary search; adding and removing cost O(1) amortized (removed children leave a hole
/// that is swept away once holes outnumber children).
public struct DirectoryChildren: Sendable {
    private struct Member: Sendable {
        var id: UInt64
        var cookie: UInt64
    }

    /// A child in listing order, kept (for its cookie) after the child is removed.
    private struct Slot: Sendable {
        var child: DirectoryChild
        var removed = false
    }

    private var members: [String: Member] = [:]
    /// Ascending by cookie.
    private var slots: [Slot] = []
    private var removedSlots = 0
    private var lastCookie: UInt64 = 0

    /// An empty directory.
    public init() {}

    /// The id of the child called `name`.
    public subscript(name: String) -> UInt64? { members[name]?.id }

    /// Adds `id` as `name` at the end of the listing order, replacing any child of that name.
    public mutating func insert(_ id: UInt64, named name: String, isDirectory: Bool) {
        lastCookie += 1
        if let replaced = members.updateValue(Member(id: id, cookie: lastCookie), forKey: name) {
            removeSlot(of: replaced)
        }
        slots.append(Slot(child: DirectoryChild(cookie: lastCookie, id: id, name: name, isDirectory: isDirectory)))
    }

    /// Removes the child called `name`, if there is one; its cookie is never given out again.
    public mutating func remove(named name: String) {
        guard let member = members.removeValue(forKey: name) else { return }
        removeSlot(of: member)
    }

    /// Children with a cookie above `cookie` (0: all of them), in listing order.
    public func listed(after cookie: UInt64) -> some Sequence<DirectoryChild> {
        slots[firstSlot(after: cookie)...].lazy.filter { !$0.removed }.map(\.child)
    }

    /// Marks the member's slot removed; once removed slots outnumber children they are swept away.
    private mutating func removeSlot(of member: Member) {
        let index = firstSlot(after: member.cookie - 1)
        slots[index].removed = true
        slots[index].child.name = ""
        removedSlots += 1
        if removedSlots > members.count, removedSlots >= 64 {
            slots.removeAll(where: \.removed)
            removedSlots = 0
        }
    }

    /// The index of the first slot whose cookie is above `cookie`.
    private func firstSlot(after cookie: UInt64) -> Int {
        var low = 0, high = slots.count
        while low < high {
            let middle = (low + high) / 2
            if slots[middle].child.cookie <= cookie { low = middle + 1 } else { high = middle }
        }
        return low
    }
}

/// One child as a listing shows it.
public struct DirectoryChild: Sendable {
    /// Its place in the directory's listing order (see `DirectoryChildren`).
    public var cookie: UInt64
    /// The child's node.
    public var id: UInt64
    public var name: String
    /// Whether the child is a directory (its READDIR type), kept here so listing needs no node.
    public var isDirectory: Bool
}

extension DirectoryChildren: ExpressibleByDictionaryLiteral {
    /// Children added in the literal's order; `[:]` is an empty directory.
    public init(dictionaryLiteral elements: (String, (id: UInt64, isDirectory: Bool))...) {
        for (name, child) in elements { insert(child.id, named: name, isDirectory: child.isDirectory) }
    }
}
